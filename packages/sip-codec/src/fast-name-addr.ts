/**
 * Fast path for From and To (read on every packet for their tag): one pass over the bytes that
 * checks the whole value the way parseNameAddr would and records where the tag, the URI and the
 * display name are; the tag is read at once, the display name (unless it has escapes) and the URI
 * text (uriTextOf) from those bounds, and the parsed URI and parameter map by the general parser
 * on first read.
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

/** Display name bounds in the scan's slots: none, or escapes inside the quotes (the general parser unquotes). */
const NO_DISPLAY = -1;
const ESCAPED_DISPLAY = -2;

/** A From/To read by the fast path: `tag` at once, the rest from the recorded bounds or the general parser. */
class FastNameAddr implements NameAddr {
  readonly tag: string | undefined;
  #buf: Buffer;
  #start: number;
  #end: number;
  #uriStart: number;
  #uriEnd: number;
  #displayStart: number;
  #displayEnd: number;
  #raw: string | undefined;
  #uriText: string | undefined;
  #display: string | undefined;
  #full: NameAddr | undefined;

  constructor(buf: Buffer, start: number, end: number, tag: string | undefined, f: readonly number[], o: number) {
    this.tag = tag;
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
    this.#uriStart = f[o + URI_START] as number;
    this.#uriEnd = f[o + URI_END] as number;
    this.#displayStart = f[o + DISPLAY_START] as number;
    this.#displayEnd = f[o + DISPLAY_END] as number;
  }

  get raw(): string {
    this.#raw ??= latin1(this.#buf, this.#start, this.#end);
    return this.#raw;
  }

  private full(): NameAddr {
    this.#full ??= parseNameAddr(this.raw);
    return this.#full;
  }

  /** The URI as written, from its bounds (the text parseNameAddr would parse). */
  get uriText(): string {
    this.#uriText ??= latin1(this.#buf, this.#uriStart, this.#uriEnd);
    return this.#uriText;
  }

  get displayName(): string | undefined {
    if (this.#displayStart === NO_DISPLAY) return undefined;
    if (this.#displayStart === ESCAPED_DISPLAY) return this.full().displayName;
    this.#display ??= latin1(this.#buf, this.#displayStart, this.#displayEnd);
    return this.#display;
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

/**
 * The URI of an address as written (`addr.uri.raw`), taken from the bytes when the fast path read
 * the address, so that reading it does not parse the URI.
 */
export function uriTextOf(addr: NameAddr): string {
  return addr instanceof FastNameAddr ? addr.uriText : addr.uri.raw;
}

/**
 * Slots scanNameAddr fills: the tag value's bytes (-1 twice when there is no tag), the URI's, and
 * the display name's (NO_DISPLAY, or ESCAPED_DISPLAY when the quoted form has a quoted-pair).
 */
export const NAME_ADDR_SLOTS = 6;
const TAG_START = 0, TAG_END = 1, URI_START = 2, URI_END = 3, DISPLAY_START = 4, DISPLAY_END = 5;

/**
 * Scans a From/To value b[s, e) (one unfolded header value, trimmed) and records its tag, URI
 * and display name bounds in f[o, o + NAME_ADDR_SLOTS). False when the value is not of the fast path's shape (nothing is then known about
 * its validity). Allocates nothing.
 */
export function scanNameAddr(b: Uint8Array, s: number, e: number, f: number[], o: number): boolean {
  if (s >= e) return false;
  let lt = -1;
  let ds = NO_DISPLAY, de = NO_DISPLAY;
  const c0 = b[s] as number;
  if (c0 === 0x22) {
    // Quoted display name (ASCII); then LWS and '<'.
    let j = s + 1;
    let escaped = false;
    for (; j < e; j++) {
      const c = b[j] as number;
      if (c >= 0x80) return false;
      if (c === 0x5c) {
        escaped = true;
        j++; // quoted-pair: the escaped byte must be ASCII too
        if (j < e && (b[j] as number) >= 0x80) return false;
      } else if (c === 0x22) break;
    }
    if (j >= e) return false;
    ds = escaped ? ESCAPED_DISPLAY : s + 1;
    de = j;
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
    if (j < e && b[j] === 0x3c) {
      lt = j;
      // The tokens without the LWS around them.
      let k = s;
      while (k < j && (b[k] === SP || b[k] === HT)) k++;
      while (j > k && (b[j - 1] === SP || b[j - 1] === HT)) j--;
      if (j > k) {
        ds = k;
        de = j;
      }
    }
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
  f[o + TAG_START] = ts;
  f[o + TAG_END] = te;
  f[o + URI_START] = us;
  f[o + URI_END] = ue;
  f[o + DISPLAY_START] = ds;
  f[o + DISPLAY_END] = de;
  return true;
}

/** The NameAddr that a successful scanNameAddr of b[s, e) recorded in f[o...]. */
export function buildNameAddr(b: Buffer, s: number, e: number, f: readonly number[], o: number): NameAddr {
  const ts = f[o + TAG_START] as number;
  return new FastNameAddr(b, s, e, ts < 0 ? undefined : latin1(b, ts, f[o + TAG_END] as number), f, o);
}

const scratch: number[] = Array.from({ length: NAME_ADDR_SLOTS }, () => 0);

/** scanNameAddr then buildNameAddr: the fast path on its own (undefined when it does not apply). */
export function fastNameAddr(b: Buffer, s: number, e: number): NameAddr | undefined {
  return scanNameAddr(b, s, e, scratch, 0) ? buildNameAddr(b, s, e, scratch, 0) : undefined;
}
