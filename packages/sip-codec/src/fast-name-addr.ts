/**
 * Fast path for From and To (read on every packet for their tag): one pass over the bytes that
 * checks the whole value the way parseNameAddr would and extracts only the tag; the display name,
 * URI and parameter map are parsed by the general parser on first read.
 *
 * It accepts a strict subset of what parseNameAddr accepts: ASCII only, a sip/sips URI without
 * URI headers, no LWS around header parameters, no quoted parameter values. For anything else it
 * returns undefined and the caller uses parseNameAddr, so errors and odd inputs behave exactly as
 * before; for the subset the general parser cannot fail and gives the same values.
 */
import { TOKEN_BYTES, clearBits, codes, range, setBits } from './chars.js';
import { hostKindCode } from './host.js';
import { latin1 } from './raw-headers.js';
import type { NameAddr, Params, SipUri } from './types.js';
import { parseNameAddr } from './name-addr.js';

const SP = 0x20;
const HT = 0x09;

/** Byte classes: 1 token, 2 URI character (what parseUri allows), 4 parameter value. */
const CLASS = new Uint8Array(256);
setBits(CLASS, TOKEN_BYTES, 1);
setBits(CLASS, range(0x21, 0x7e), 2 | 4);
clearBits(CLASS, codes('"<>\\'), 2);
clearBits(CLASS, codes('";,<>'), 4);

function is(b: Uint8Array, i: number, cls: number): boolean {
  return ((CLASS[b[i] as number] as number) & cls) !== 0;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * True when buf[s, e) (URI characters only, checked by the caller) is a sip or sips URI that
 * parseUri accepts, without URI headers.
 */
export function isSimpleSipUri(b: Uint8Array, s: number, e: number): boolean {
  // Scheme: sip or sips, any case.
  if (e - s < 5 || ((b[s] as number) | 0x20) !== 0x73 || ((b[s + 1] as number) | 0x20) !== 0x69 || ((b[s + 2] as number) | 0x20) !== 0x70) return false;
  let i = s + 3;
  if (((b[i] as number) | 0x20) === 0x73) i++;
  if (b[i] !== 0x3a) return false;
  const rs = i + 1;
  // userinfo ends at the last '@'; the user part before its first ':' must not be empty.
  let at = -1;
  for (let j = e - 1; j >= rs; j--) {
    if (b[j] === 0x40) {
      at = j;
      break;
    }
  }
  if (at === rs || (at > rs && b[rs] === 0x3a)) return false;
  const hp = at < 0 ? rs : at + 1;
  // hostport ends at the first ';' (or the end). A '?' after the userinfo (URI headers) sends
  // the value to the general path: the host and port checks refuse it, and so do the parameter
  // loop's name and value scans, so no separate pass looks for it.
  let semi = hp;
  let colon = -1;
  for (; semi < e; semi++) {
    const c = b[semi];
    if (c === 0x3b) break;
    if (c === 0x3a && colon < 0) colon = semi;
  }
  let hostEnd: number;
  if (b[hp] === 0x5b) {
    for (hostEnd = hp; hostEnd < semi && b[hostEnd] !== 0x5d; hostEnd++);
    if (hostEnd >= semi) return false;
    hostEnd++;
  } else {
    hostEnd = colon < 0 ? semi : colon;
  }
  if (hostKindCode(b, hp, hostEnd) < 0) return false;
  if (hostEnd < semi) {
    if (b[hostEnd] !== 0x3a || semi - hostEnd < 2 || semi - hostEnd > 6) return false;
    let v = 0;
    for (let j = hostEnd + 1; j < semi; j++) {
      if (!isDigit(b[j] as number)) return false;
      v = v * 10 + ((b[j] as number) - 0x30);
    }
    if (v > 65535) return false;
  }
  // uri-parameters: ;name or ;name=value, the value without ',' or ';'.
  i = semi;
  while (i < e) {
    if (b[i] !== 0x3b) return false;
    const ns = ++i;
    while (i < e && is(b, i, 1)) i++;
    if (i === ns) return false;
    if (i < e && b[i] === 0x3d) {
      const vs = ++i;
      while (i < e && is(b, i, 4)) {
        if (b[i] === 0x3f) return false;
        i++;
      }
      if (i === vs) return false;
    }
  }
  return true;
}

/** A From/To read by the fast path: `tag` at once, the rest from the general parser when read. */
class FastNameAddr implements NameAddr {
  readonly tag: string | undefined;
  #buf: Buffer;
  #start: number;
  #end: number;
  #raw: string | undefined;
  #full: NameAddr | undefined;

  constructor(buf: Buffer, start: number, end: number, tag: string | undefined) {
    this.tag = tag;
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
  }

  get raw(): string {
    this.#raw ??= latin1(this.#buf, this.#start, this.#end);
    return this.#raw;
  }

  private full(): NameAddr {
    this.#full ??= parseNameAddr(this.raw);
    return this.#full;
  }

  get displayName(): string | undefined {
    return this.full().displayName;
  }

  get uri(): SipUri {
    return this.full().uri;
  }

  get params(): Params {
    return this.full().params;
  }

  /** The same JSON as the object parseNameAddr returns. */
  toJSON(): NameAddr {
    return this.full();
  }
}

/** Slots scanNameAddr fills: the tag value's bytes, or -1 twice when there is no tag. */
export const NAME_ADDR_SLOTS = 2;

/**
 * Scans a From/To value b[s, e) (one unfolded header value, trimmed) and records its tag in
 * f[o, o + 2). False when the value is not of the fast path's shape (nothing is then known about
 * its validity). Allocates nothing.
 */
export function scanNameAddr(b: Uint8Array, s: number, e: number, f: number[], o: number): boolean {
  if (s >= e) return false;
  let lt = -1;
  const c0 = b[s] as number;
  if (c0 === 0x22) {
    // Quoted display name (ASCII); then LWS and '<'.
    let j = s + 1;
    for (; j < e; j++) {
      const c = b[j] as number;
      if (c >= 0x80) return false;
      if (c === 0x5c) {
        j++; // quoted-pair: the escaped byte must be ASCII too
        if (j < e && (b[j] as number) >= 0x80) return false;
      } else if (c === 0x22) break;
    }
    if (j >= e) return false;
    j++;
    while (j < e && (b[j] === SP || b[j] === HT)) j++;
    if (j >= e || b[j] !== 0x3c) return false;
    lt = j;
  } else if (c0 === 0x3c) {
    lt = s;
  } else {
    // Display name of tokens and LWS before '<', or else an addr-spec.
    let j = s;
    while (j < e && (is(b, j, 1) || b[j] === SP || b[j] === HT)) j++;
    if (j < e && b[j] === 0x3c) lt = j;
  }
  let us: number, ue: number, i: number;
  if (lt >= 0) {
    us = lt + 1;
    ue = us;
    while (ue < e && is(b, ue, 2)) ue++;
    if (ue >= e || b[ue] !== 0x3e) return false;
    i = ue + 1;
  } else {
    // addr-spec: the URI ends at ';' (header parameters follow) and has no ',' or '?'.
    us = s;
    ue = s;
    while (ue < e && is(b, ue, 2) && b[ue] !== 0x3b) {
      if (b[ue] === 0x2c || b[ue] === 0x3f) return false;
      ue++;
    }
    i = ue;
  }
  if (!isSimpleSipUri(b, us, ue)) return false;
  // Header parameters without LWS; the first `tag` counts (a bare `;tag` is no tag).
  let ts = -1, te = -1;
  let seenTag = false;
  while (i < e && b[i] === 0x3b) {
    const ns = ++i;
    while (i < e && is(b, i, 1)) i++;
    const ne = i;
    if (ne === ns) return false;
    let vs = -1;
    if (i < e && b[i] === 0x3d) {
      vs = ++i;
      while (i < e && is(b, i, 4)) i++;
      if (i === vs) return false;
    }
    if (!seenTag && ne - ns === 3 && ((b[ns] as number) | 0x20) === 0x74 && ((b[ns + 1] as number) | 0x20) === 0x61 && ((b[ns + 2] as number) | 0x20) === 0x67) {
      seenTag = true;
      if (vs >= 0) {
        ts = vs;
        te = i;
      }
    }
  }
  if (i !== e) return false;
  f[o] = ts;
  f[o + 1] = te;
  return true;
}

/** The NameAddr that a successful scanNameAddr of b[s, e) recorded in f[o...]. */
export function buildNameAddr(b: Buffer, s: number, e: number, f: readonly number[], o: number): NameAddr {
  const ts = f[o] as number;
  return new FastNameAddr(b, s, e, ts < 0 ? undefined : latin1(b, ts, f[o + 1] as number));
}

const scratch: number[] = [0, 0];

/** scanNameAddr then buildNameAddr: the fast path on its own (undefined when it does not apply). */
export function fastNameAddr(b: Buffer, s: number, e: number): NameAddr | undefined {
  return scanNameAddr(b, s, e, scratch, 0) ? buildNameAddr(b, s, e, scratch, 0) : undefined;
}
