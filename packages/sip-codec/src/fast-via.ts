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

/** The part of a Via the fast paths leave to the general parser: `params` (and the JSON), on first read. */
abstract class ParamsOnDemand {
  abstract readonly raw: string;
  #full: Via | undefined;

  get params(): Params {
    return this.#parsed().params;
  }

  /** The same JSON as the object parseVia returns. */
  toJSON(): Via {
    return this.#parsed();
  }

  #parsed(): Via {
    this.#full ??= parseVia(this.raw);
    return this.#full;
  }
}

/** A Via read by the fast path; `raw` and `params` come from the general parser when read. */
class FastVia extends ParamsOnDemand implements Via {
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

  constructor(b: Buffer, s: number, f: readonly number[], o: number) {
    super();
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

/** Where the top value that a successful scanTopVia recorded in f[o...] ends. */
export function scannedViaEnd(f: readonly number[], o: number): number {
  return f[o + END] as number;
}

/** The Via that a successful scanTopVia of the value starting at `s` recorded in f[o...]. */
export function buildTopVia(b: Buffer, s: number, f: readonly number[], o: number): Via {
  return new FastVia(b, s, f, o);
}

/**
 * What `setTopViaParams` may set without the general parser: the RFC 3581 / §18.2.1 stamp of the
 * transport (`received` with a host, `rport` with a port number or as a flag). Undefined when
 * `set` holds anything else, or a value whose Via would not read back the same way.
 */
export interface ViaStamp {
  readonly received: string | undefined;
  /** Whether `rport` is set, and to what. */
  readonly hasRport: boolean;
  readonly rport: number | true | undefined;
}

export function viaStamp(set: Readonly<Record<string, string | number | null>>): ViaStamp | undefined {
  let received: string | undefined;
  let hasRport = false;
  let rport: number | true | undefined;
  for (const k in set) {
    const v = set[k];
    if (k === 'received') {
      if (typeof v !== 'string' || v.length === 0) return undefined;
      for (let i = 0; i < v.length; i++) if (((CLASS[v.charCodeAt(i)] ?? 0) & 8) === 0) return undefined;
      received = v;
    } else if (k === 'rport') {
      if (v === null) rport = true;
      else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) rport = v;
      else return undefined;
      hasRport = true;
    } else return undefined;
  }
  return { received, hasRport, rport };
}

function formatParam(k: string, v: string | number | null): string {
  return v === null ? `;${k}` : `;${k}=${v}`;
}

/**
 * The top Via that a successful scanTopVia of the value starting at `s` recorded in f[o...], in
 * canonical form with the parameters of `set` (lower-case names) set: the same string as
 * formatViaWithParams(parseVia(value), set) — sent-protocol upper-case with one space, the port
 * as a number, parameter names lower-case, the first of repeated names only, set values in
 * place and new ones at the end — read from the bytes without building the parameter map.
 */
export function formatScannedVia(b: Buffer, s: number, f: readonly number[], o: number, set: Readonly<Record<string, string | number | null>>): string {
  const te = f[o + TRANSPORT_END] as number;
  const hs = f[o + HOST_START] as number;
  const he = f[o + HOST_END] as number;
  const port = f[o + PORT] as number;
  const end = f[o + END] as number;
  const transport = transportName(b, s + 8, te);
  let i = he;
  let digits = 0;
  if (port !== NONE) {
    i++;
    while ((b[i] as number) >= 0x30 && (b[i] as number) <= 0x39) i++;
    digits = i - he - 1;
  }
  // Bytes already in canonical form are copied in runs (one slice each); only what changes is
  // written anew. The head is canonical when the transport is upper-case, one SP follows it and
  // the port has no leading zero.
  let out = '';
  let run: number;
  if (sameAscii(b, s + 8, transport) && b[te] === SP && te + 1 === hs && (port === NONE || digits === String(port).length)) run = s;
  else {
    out = `SIP/2.0/${transport} ${latin1(b, hs, he)}${port === NONE ? '' : `:${port}`}`;
    run = i;
  }
  const keys = Object.keys(set);
  let done = 0;
  let params = 0;
  while (i < end) {
    // The scan accepted this shape: `;name` or `;name=value`, no LWS, no quotes.
    const ps = i;
    const ns = ++i;
    while (i < end && ((CLASS[b[i] as number] as number) & 1) !== 0) i++;
    const ne = i;
    let vs = NONE;
    if (i < end && b[i] === 0x3d) {
      vs = ++i;
      while (i < end && b[i] !== 0x3b) i++;
    }
    const pe = i;
    let repeated = false;
    for (let p = 0; p < params && !repeated; p++) repeated = sameName(b, ns, ne, NAMES[2 * p] as number, NAMES[2 * p + 1] as number);
    let key = -1;
    for (let k = 0; k < keys.length && key < 0; k++) if (nameIs(b, ns, ne, keys[k] as string)) key = k;
    if (!repeated) {
      if (params === NAMES.length / 2) NAMES.push(0, 0);
      NAMES[2 * params] = ns;
      NAMES[2 * params + 1] = ne;
      params++;
    }
    if (!repeated && key < 0 && !hasUpper(b, ns, ne)) continue; // stays in the run
    if (ps > run) out += latin1(b, run, ps);
    run = pe;
    if (repeated) continue;
    if (key >= 0) {
      out += formatParam(keys[key] as string, set[keys[key] as string] as string | number | null);
      done |= 1 << key;
    } else out += formatParam(latin1(b, ns, ne).toLowerCase(), vs === NONE ? null : latin1(b, vs, pe));
  }
  if (end > run) out += latin1(b, run, end);
  for (let k = 0; k < keys.length; k++) if ((done & (1 << k)) === 0) out += formatParam(keys[k] as string, set[keys[k] as string] as string | number | null);
  return out;
}

/** Name bounds of the parameters seen so far by formatScannedVia (pairs), reused from call to call. */
const NAMES: number[] = Array.from({ length: 32 }, () => 0);

/** b[s, s + t.length) equals `t` (ASCII). */
function sameAscii(b: Uint8Array, s: number, t: string): boolean {
  for (let i = 0; i < t.length; i++) if (b[s + i] !== t.charCodeAt(i)) return false;
  return true;
}

/** Case-insensitive equality of two token ranges of `b`. */
function sameName(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): boolean {
  if (e1 - s1 !== e2 - s2) return false;
  for (let i = 0; i < e1 - s1; i++) if (((b[s1 + i] as number) | 0x20) !== ((b[s2 + i] as number) | 0x20) || !sameLetterness(b[s1 + i] as number, b[s2 + i] as number)) return false;
  return true;
}

/** Whether two token bytes that agree after `| 0x20` are the same character (only letters fold). */
function sameLetterness(x: number, y: number): boolean {
  return x === y || (isLetter(x) && isLetter(y));
}

function isLetter(c: number): boolean {
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

/** The token range equals the lower-case name `t`, ignoring case. */
function nameIs(b: Uint8Array, s: number, e: number, t: string): boolean {
  if (e - s !== t.length) return false;
  for (let i = 0; i < t.length; i++) {
    const c = b[s + i] as number;
    if ((isLetter(c) ? c | 0x20 : c) !== t.charCodeAt(i)) return false;
  }
  return true;
}

function hasUpper(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if ((b[i] as number) >= 0x41 && (b[i] as number) <= 0x5a) return true;
  return false;
}

/**
 * The top Via after a stamp (viaStamp) on a value read by the fast path: `raw` is the stamped
 * value, the fields are those of `base` with received and rport replaced; `params` come from the
 * general parser when read.
 */
class StampedVia extends ParamsOnDemand implements Via {
  readonly protocol = 'SIP/2.0';
  readonly raw: string;
  readonly transport: string;
  readonly host: string;
  readonly hostKind: HostKind;
  readonly port: number | undefined;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  readonly rport: number | true | undefined;

  constructor(base: Via, raw: string, stamp: ViaStamp) {
    super();
    this.raw = raw;
    this.transport = base.transport;
    this.host = base.host;
    this.hostKind = base.hostKind;
    this.port = base.port;
    this.branch = base.branch;
    this.received = stamp.received ?? base.received;
    this.rport = stamp.hasRport ? stamp.rport : base.rport;
  }
}

/** The Via read back from `raw`, the stamped form of `base` (see StampedVia). */
export function stampedVia(base: Via, raw: string, stamp: ViaStamp): Via {
  return new StampedVia(base, raw, stamp);
}

const scratch: number[] = Array.from({ length: VIA_SLOTS }, () => 0);

/** scanTopVia then buildTopVia: the fast path on its own (undefined when it does not apply). */
export function fastTopVia(b: Buffer, s: number, e: number): Via | undefined {
  return scanTopVia(b, s, e, scratch, 0) ? buildTopVia(b, s, scratch, 0) : undefined;
}
