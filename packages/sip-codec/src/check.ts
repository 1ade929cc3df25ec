/**
 * Allocation-free byte checks used by parseMessage for eager validation. They accept a superset
 * of what the structured parsers accept and reject the shapes a transport must answer 400 to
 * without reading further (RFC 4475 §3.1.2). Full parsing happens lazily in the accessors.
 */
import { TOKEN } from './chars.js';

const SP = 0x20;
const HT = 0x09;


function wsp(b: Uint8Array, i: number, e: number): number {
  while (i < e && (b[i] === SP || b[i] === HT || b[i] === 0x0d || b[i] === 0x0a)) i++;
  return i;
}

function token(b: Uint8Array, i: number, e: number): number {
  while (i < e && TOKEN[b[i] as number] === 1) i++;
  return i;
}

/** `*( ";" token [ "=" value ] )` with value a quoted string or a run without ; , LWS. -1 on error. */
function params(b: Uint8Array, i: number, e: number, stopAtComma: boolean): number {
  for (;;) {
    i = wsp(b, i, e);
    if (i >= e || (stopAtComma && b[i] === 0x2c)) return i;
    if (b[i] !== 0x3b) return -1;
    i = wsp(b, i + 1, e);
    const n = token(b, i, e);
    if (n === i) return -1;
    i = wsp(b, n, e);
    if (i < e && b[i] === 0x3d) {
      i = wsp(b, i + 1, e);
      if (i < e && b[i] === 0x22) {
        i = quoted(b, i, e);
        if (i < 0) return -1;
      } else {
        const vs = i;
        while (i < e) {
          const c = b[i] as number;
          if (c === 0x3b || c === 0x2c || c <= SP || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x7f) break;
          i++;
        }
        if (i === vs) return -1;
      }
    }
  }
}

/** Index after the quoted string opening at i, or -1. */
function quoted(b: Uint8Array, i: number, e: number): number {
  for (let j = i + 1; j < e; j++) {
    const c = b[j];
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/** A URI's scheme and that it has no LWS, quotes or angle brackets. */
export function checkUri(b: Uint8Array, s: number, e: number): boolean {
  if (s >= e) return false;
  const c0 = (b[s] as number) | 0x20;
  if (c0 < 0x61 || c0 > 0x7a) return false;
  let i = s + 1;
  while (i < e) {
    const c = b[i] as number;
    if (c === 0x3a) break;
    const l = c | 0x20;
    if (!((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return false;
    i++;
  }
  if (i >= e - 1) return false;
  for (i++; i < e; i++) {
    const c = b[i] as number;
    if (c <= SP || c === 0x7f || c === 0x22 || c === 0x3c || c === 0x3e) return false;
  }
  return true;
}

/** From/To value: display name (quoted or tokens) with <URI>, or an addr-spec; then params. */
export function checkNameAddr(b: Uint8Array, s: number, e: number): boolean {
  let i = wsp(b, s, e);
  if (i >= e) return false;
  if (b[i] === 0x22) {
    i = quoted(b, i, e);
    if (i < 0) return false;
    i = wsp(b, i, e);
    if (i >= e || b[i] !== 0x3c) return false;
  } else {
    let j = i;
    while (j < e && (TOKEN[b[j] as number] === 1 || b[j] === SP || b[j] === HT)) j++;
    if (j < e && b[j] === 0x3c) i = j;
    else {
      let u = i;
      while (u < e && b[u] !== 0x3b && b[u] !== SP && b[u] !== HT) {
        const c = b[u];
        if (c === 0x2c || c === 0x3f || c === 0x3c || c === 0x3e || c === 0x22) return false;
        u++;
      }
      return checkUri(b, i, u) && params(b, u, e, false) === e;
    }
  }
  const gt = b.indexOf(0x3e, i + 1);
  if (gt < 0 || gt >= e || !checkUri(b, i + 1, gt)) return false;
  return params(b, gt + 1, e, false) === e;
}

/** Top Via value: `token / token / token LWS sent-by *(params)` up to the first comma. */
export function checkTopVia(b: Uint8Array, s: number, e: number): boolean {
  let i = wsp(b, s, e);
  for (let k = 0; k < 3; k++) {
    const t = token(b, i, e);
    if (t === i) return false;
    i = wsp(b, t, e);
    if (k < 2) {
      if (i >= e || b[i] !== 0x2f) return false;
      i = wsp(b, i + 1, e);
    } else if (i === t) return false;
  }
  const hs = i;
  if (i < e && b[i] === 0x5b) {
    const close = b.indexOf(0x5d, i);
    if (close < 0 || close >= e) return false;
    i = close + 1;
  }
  while (i < e) {
    const c = b[i] as number;
    if (c === 0x3b || c === 0x2c || c === SP || c === HT || c === 0x0d) break;
    if (!(TOKEN[c] === 1 || c === 0x3a)) return false;
    i++;
  }
  if (i === hs) return false;
  return params(b, i, e, true) >= 0;
}

/** Result of the last successful checkCSeq (module-level: no allocation per message). */
export const cseqFound = { seq: 0, methodStart: 0 };

/**
 * CSeq `digits LWS method` on bytes, the number below 2^32 and the method ending at `e`. On
 * success fills `cseqFound` and returns true.
 */
export function checkCSeq(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  let v = 0;
  while (i < e && (b[i] as number) >= 0x30 && (b[i] as number) <= 0x39) {
    v = v * 10 + ((b[i] as number) - 0x30);
    i++;
  }
  if (i === s || i - s > 10 || v > 4294967295) return false;
  const ms = wsp(b, i, e);
  if (ms === i) return false;
  const me = token(b, ms, e);
  if (me === ms || me !== e) return false;
  cseqFound.seq = v;
  cseqFound.methodStart = ms;
  return true;
}
