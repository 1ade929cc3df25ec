/**
 * Routing tokens: who owns a client transaction or a flow, authenticated with HMAC-SHA-256 of
 * the shared SIPNATS_SECRET so that one instance can forward a message to another without ever
 * following a forged pointer.
 *
 * Via branch (RFC 3261 §8.1.1.7, a legal `token`):
 *   `z9hG4bK-sn1.<instance>.<flow>.<nonce>.<mac>`
 * Flow token (the `sn-flow` parameter of our Record-Route / Path URIs):
 *   `<instance>.<flow>.<mac>`
 * `<instance>` and `<flow>` are subject-token encoded (`A-Z a-z 0-9 - _` and `%XX`), so they never
 * contain the `.` separator; `<nonce>` and `<mac>` are base64url. The MAC covers a domain tag
 * (branch or flow), the instance, the flow and the nonce; it is truncated to 96 bits.
 *
 * A flow token travels as a URI parameter, and RFC 3261 §19.1.4 makes `%XX` in a parameter equal
 * to the character it escapes: some UAs (sofia-sip, hence FreeSWITCH) echo our Record-Route with
 * the escapes that are not needed there decoded (`udp0/10.0.0.1:5060` for `udp0%2F10%2E0%2E0%2E1%3A5060`).
 * `verifyFlowToken` accepts that form too: the instance and flow are found again by the MAC.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeToken, encodeToken } from '@sipnats/contracts';

export const BRANCH_PREFIX = 'z9hG4bK-sn1.';
const MAC_BYTES = 12;
const NONCE_BYTES = 9;
/** Bounds on the work for a flow token that arrives in its decoded form. */
const MAX_DECODED_TOKEN = 1024;
const MAX_SPLITS = 32;

export interface Owner {
  readonly instance: string;
  readonly flow: string;
}

/** Why a token was refused. */
export const TokenFault = {
  /** Not one of ours at all (another element's branch): not an error, just not routable by us. */
  foreign: 'foreign',
  /** Looks like ours but does not parse. */
  malformed: 'malformed',
  /** Parses but the MAC does not match (forged, tampered, or another secret). */
  badMac: 'bad-mac',
} as const;
export type TokenFault = (typeof TokenFault)[keyof typeof TokenFault];

export type TokenResult = { readonly ok: true; readonly owner: Owner } | { readonly ok: false; readonly fault: TokenFault };

export class TokenCodec {
  readonly #key: Buffer;

  constructor(secret: string | Buffer) {
    const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    if (key.length < 16) throw new RangeError('routing secret must be at least 16 bytes');
    this.#key = Buffer.from(key);
  }

  #mac(domain: string, ...parts: string[]): Buffer {
    const h = createHmac('sha256', this.#key);
    h.update(domain);
    for (const p of parts) h.update('\u0000' + p);
    return h.digest().subarray(0, MAC_BYTES);
  }

  #check(expected: Buffer, given: string): boolean {
    const buf = Buffer.from(given, 'base64url');
    return buf.length === expected.length && buf.toString('base64url') === given && timingSafeEqual(buf, expected);
  }

  /** A fresh branch for a request this instance sends on `flow` (or '-' when not flow-bound). */
  branch(owner: Owner): string {
    const inst = encodeToken(owner.instance);
    const flow = encodeToken(owner.flow);
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    const mac = this.#mac('branch', inst, flow, nonce).toString('base64url');
    return `${BRANCH_PREFIX}${inst}.${flow}.${nonce}.${mac}`;
  }

  verifyBranch(branch: string | undefined): TokenResult {
    if (branch === undefined || !branch.startsWith(BRANCH_PREFIX)) return { ok: false, fault: TokenFault.foreign };
    const parts = branch.slice(BRANCH_PREFIX.length).split('.');
    if (parts.length !== 4) return { ok: false, fault: TokenFault.malformed };
    const [inst, flow, nonce, mac] = parts as [string, string, string, string];
    if (nonce.length === 0) return { ok: false, fault: TokenFault.malformed };
    return this.#owner(this.#mac('branch', inst, flow, nonce), inst, flow, mac);
  }

  /** The `sn-flow` value naming `owner`; deterministic, so a flow always gets the same token. */
  flowToken(owner: Owner): string {
    const inst = encodeToken(owner.instance);
    const flow = encodeToken(owner.flow);
    return `${inst}.${flow}.${this.#mac('flow', inst, flow).toString('base64url')}`;
  }

  verifyFlowToken(token: string | null | undefined): TokenResult {
    if (token === undefined || token === null || token.length === 0) return { ok: false, fault: TokenFault.malformed };
    const parts = token.split('.');
    const strict: TokenResult =
      parts.length === 3 ? this.#owner(this.#mac('flow', parts[0] ?? '', parts[1] ?? ''), parts[0] ?? '', parts[1] ?? '', parts[2] ?? '') : { ok: false, fault: TokenFault.malformed };
    return strict.ok ? strict : (this.#verifyDecodedFlowToken(token) ?? strict);
  }

  /**
   * The token with (some of) its escapes decoded (RFC 3261 §19.1.4): decode the rest, take the MAC
   * after the last `.`, and find the `.` between instance and flow (either may contain dots once
   * decoded) as the split whose canonical encoding the MAC authenticates. A bad MAC when no split
   * is authenticated; undefined when the text does not even decode to `<instance>.<flow>.<mac>`.
   */
  #verifyDecodedFlowToken(token: string): TokenResult | undefined {
    if (token.length > MAX_DECODED_TOKEN) return undefined;
    let raw: string;
    try {
      raw = decodeURIComponent(token);
    } catch {
      return undefined;
    }
    const last = raw.lastIndexOf('.');
    if (last <= 0) return undefined;
    const head = raw.slice(0, last);
    const mac = raw.slice(last + 1);
    let splits = 0;
    let tried = false;
    for (let i = head.indexOf('.'); i > 0 && i < head.length - 1 && splits < MAX_SPLITS; i = head.indexOf('.', i + 1), splits++) {
      const instance = head.slice(0, i);
      const flow = head.slice(i + 1);
      let inst: string;
      let fl: string;
      try {
        inst = encodeToken(instance);
        fl = encodeToken(flow);
      } catch {
        continue;
      }
      tried = true;
      if (this.#check(this.#mac('flow', inst, fl), mac)) return { ok: true, owner: { instance, flow } };
    }
    return tried ? { ok: false, fault: TokenFault.badMac } : undefined;
  }

  #owner(expected: Buffer, inst: string, flow: string, mac: string): TokenResult {
    if (!this.#check(expected, mac)) return { ok: false, fault: TokenFault.badMac };
    try {
      return { ok: true, owner: { instance: decodeToken(inst), flow: decodeToken(flow) } };
    } catch {
      return { ok: false, fault: TokenFault.malformed };
    }
  }
}

/** Flow id used in branches of requests that are not bound to a flow. */
export const NO_FLOW = '-';
