/**
 * Fast path for the top Via (what the transport reads on every packet): one pass over the bytes
 * of the common shape `SIP/2.0/<transport> SP host[:port] *(;name[=value])`, reading transport,
 * sent-by, branch, received and rport without building the parameter map.
 *
 * It accepts only a strict subset of what parseVia accepts, and for that subset gives the same
 * results: ASCII only, no LWS inside sent-protocol or around parameters, no quoted values. For
 * anything else it returns undefined and the caller uses parseVia (the general path), so errors
 * and odd inputs behave exactly as before. `raw` and `params` are computed on first read (by the
 * general parser, which cannot fail on what this path accepted).
 */
import { ALPHA, DIGITS, HEX_LETTERS, TOKEN_BYTES, clearBits, codes, range, setBits } from './chars.js';
import { hostKindCode } from './host.js';
import { latin1 } from './raw-headers.js';
import type { HostKind, Params, Via } from './types.js';
import { parseVia } from './via.js';

const SP = 0x20;
const HT = 0x09;

/** Byte classes: 1 token, 2 host (alnum . - _), 4 IPv6 reference inner (hex : .), 8 param value. */
const CLASS = new Uint8Array(256);
setBits(CLASS, TOKEN_BYTES, 1);
setBits(CLASS, [...DIGITS, ...ALPHA, ...codes('.-_')], 2);
setBits(CLASS, [...DIGITS, ...HEX_LETTERS, ...codes(':.')], 4);
setBits(CLASS, range(0x21, 0x7e), 8);
clearBits(CLASS, codes('";,<>'), 8);

/** Transport names seen on nearly every Via, upper-case, by their lower-cased bytes. */
const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP'];

function transportName(b: Uint8Array, s: number, e: number): string {
  outer: for (const t of TRANSPORTS) {
    if (t.length !== e - s) continue;
    for (let i = 0; i < t.length; i++) if (((b[s + i] as number) & 0xdf) !== t.charCodeAt(i)) continue outer;
    return t;
  }
  return latin1(b as Buffer, s, e).toUpperCase();
}

/** Parameter name id: 1 branch, 2 received, 3 rport, 0 anything else (case-insensitive). */
function paramId(b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  const want = n === 6 ? 'branch' : n === 8 ? 'received' : n === 5 ? 'rport' : '';
  if (want === '') return 0;
  for (let i = 0; i < n; i++) if (((b[s + i] as number) | 0x20) !== want.charCodeAt(i)) return 0;
  return n === 6 ? 1 : n === 8 ? 2 : 3;
}

/**
 * Slots the scan fills (relative to its offset `o` in the caller's array): byte offsets of what
 * it found, so that strings are made only when the Via is read.
 */
export const VIA_SLOTS = 11;
const TRANSPORT_END = 0, HOST_START = 1, HOST_END = 2, HOST_KIND = 3, PORT = 4, BRANCH_START = 5, BRANCH_END = 6, RECEIVED_START = 7, RECEIVED_END = 8, RPORT = 9, END = 10;
const NONE = -1;
/** RPORT slot: absent, or a bare `;rport`; otherwise the number. */
const RPORT_ABSENT = -2, RPORT_FLAG = -1;

const HOST_KINDS: readonly HostKind[] = ['ipv4', 'ipv6', 'domain'];

/** A Via read by the fast path; `raw` and `params` come from the general parser when read. */
class FastVia implements Via {
  readonly protocol = 'SIP/2.0';
  readonly transport: string;
  readonly host: string;
  readonly hostKind: HostKind;
  readonly port: number | undefined;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  readonly rport: number | true | undefined;
  #buf: Buffer;
  #start: number;
  #end: number;
  #raw: string | undefined;
  #full: Via | undefined;

  constructor(b: Buffer, s: number, f: readonly number[], o: number) {
    this.transport = transportName(b, s + 8, f[o + TRANSPORT_END] as number);
    this.host = latin1(b, f[o + HOST_START] as number, f[o + HOST_END] as number);
    this.hostKind = HOST_KINDS[f[o + HOST_KIND] as number] as HostKind;
    const port = f[o + PORT] as number;
    this.port = port === NONE ? undefined : port;
    const bs = f[o + BRANCH_START] as number;
    this.branch = bs === NONE ? undefined : latin1(b, bs, f[o + BRANCH_END] as number);
    const rs = f[o + RECEIVED_START] as number;
    this.received = rs === NONE ? undefined : latin1(b, rs, f[o + RECEIVED_END] as number);
    const rp = f[o + RPORT] as number;
    this.rport = rp === RPORT_ABSENT ? undefined : rp === RPORT_FLAG ? true : rp;
    this.#buf = b;
    this.#start = s;
    this.#end = f[o + END] as number;
  }

  get raw(): string {
    this.#raw ??= latin1(this.#buf, this.#start, this.#end);
    return this.#raw;
  }

  get params(): Params {
    this.#full ??= parseVia(this.raw);
    return this.#full.params;
  }

  /** The same JSON as the object parseVia returns. */
  toJSON(): Via {
    this.#full ??= parseVia(this.raw);
    return this.#full;
  }
}

/**
 * Scans the first Via value in b[s, e) (one unfolded header value, trimmed) and records what it
 * found in f[o, o + VIA_SLOTS). False when the value is not of the fast path's shape (nothing is
 * then known about its validity). Allocates nothing.
 */
export function scanTopVia(b: Uint8Array, s: number, e: number, f: number[], o: number): boolean {
  // sent-protocol: exactly "SIP/2.0/" then the transport token and LWS.
  if (e - s < 11 || b[s] !== 0x53 || b[s + 1] !== 0x49 || b[s + 2] !== 0x50 || b[s + 3] !== 0x2f || b[s + 4] !== 0x32 || b[s + 5] !== 0x2e || b[s + 6] !== 0x30 || b[s + 7] !== 0x2f) return false;
  let i = s + 8;
  while (i < e && ((CLASS[b[i] as number] as number) & 1) !== 0) i++;
  const te = i;
  if (te === s + 8 || i >= e || (b[i] !== SP && b[i] !== HT)) return false;
  while (i < e && (b[i] === SP || b[i] === HT)) i++;
  // sent-by: host (domain, IPv4 or [IPv6]) and an optional port.
  const hs = i;
  if (b[i] === 0x5b) {
    i++;
    while (i < e && ((CLASS[b[i] as number] as number) & 4) !== 0) i++;
    if (i >= e || b[i] !== 0x5d) return false;
    i++;
  } else {
    while (i < e && ((CLASS[b[i] as number] as number) & 2) !== 0) i++;
  }
  const he = i;
  const kind = hostKindCode(b, hs, he);
  if (kind < 0) return false;
  let port = NONE;
  if (i < e && b[i] === 0x3a) {
    const ps = ++i;
    let v = 0;
    while (i < e && (b[i] as number) >= 0x30 && (b[i] as number) <= 0x39) v = v * 10 + ((b[i++] as number) - 0x30);
    if (i === ps || i - ps > 5 || v > 65535) return false;
    port = v;
  }
  // Parameters: ;name or ;name=value, no LWS; the first occurrence of a name counts.
  let bs = NONE, be = NONE, rs = NONE, re = NONE, rport = RPORT_ABSENT;
  let seen = 0;
  while (i < e && b[i] === 0x3b) {
    const ns = ++i;
    while (i < e && ((CLASS[b[i] as number] as number) & 1) !== 0) i++;
    const ne = i;
    if (ne === ns) return false;
    let vs = NONE;
    if (i < e && b[i] === 0x3d) {
      vs = ++i;
      while (i < e && ((CLASS[b[i] as number] as number) & 8) !== 0) i++;
      if (i === vs) return false;
    }
    const id = paramId(b, ns, ne);
    if (id === 0 || (seen & (1 << id)) !== 0) continue;
    seen |= 1 << id;
    if (id === 3) {
      if (vs < 0) rport = RPORT_FLAG;
      else {
        let v = 0;
        for (let j = vs; j < i; j++) {
          const c = b[j] as number;
          if (c < 0x30 || c > 0x39) return false;
          v = v * 10 + (c - 0x30);
        }
        if (i - vs > 5 || v > 65535) return false;
        rport = v;
      }
    } else if (vs < 0) return false; // branch or received without a value: an error, general path
    else if (id === 1) {
      bs = vs;
      be = i;
    } else {
      rs = vs;
      re = i;
    }
  }
  // The top value ends here: at the end, or LWS then the comma before the next value.
  const end = i;
  while (i < e && (b[i] === SP || b[i] === HT)) i++;
  if (i < e && b[i] !== 0x2c) return false;
  f[o + TRANSPORT_END] = te;
  f[o + HOST_START] = hs;
  f[o + HOST_END] = he;
  f[o + HOST_KIND] = kind;
  f[o + PORT] = port;
  f[o + BRANCH_START] = bs;
  f[o + BRANCH_END] = be;
  f[o + RECEIVED_START] = rs;
  f[o + RECEIVED_END] = re;
  f[o + RPORT] = rport;
  f[o + END] = end;
  return true;
}

/** The Via that a successful scanTopVia of the value starting at `s` recorded in f[o...]. */
export function buildTopVia(b: Buffer, s: number, f: readonly number[], o: number): Via {
  return new FastVia(b, s, f, o);
}

const scratch: number[] = Array.from({ length: VIA_SLOTS }, () => 0);

/** scanTopVia then buildTopVia: the fast path on its own (undefined when it does not apply). */
export function fastTopVia(b: Buffer, s: number, e: number): Via | undefined {
  return scanTopVia(b, s, e, scratch, 0) ? buildTopVia(b, s, scratch, 0) : undefined;
}
