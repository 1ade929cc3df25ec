/**
 * The header table of a parsed message: offsets into the input bytes, six small integers per
 * header (no per-header objects on the parse path). Values are decoded only when asked.
 *
 * The table is a plain array of small integers, not an Int32Array: V8 copies a packed SMI array
 * on its own heap (~45 ns for a 15-header message) where every new Int32Array needs a separately
 * allocated backing store (~300 ns), which was the largest single cost of parsing.
 */
export type HeaderTable = number[];

/** Stride and slots of the header table. */
export const HS = 6;
export const LINE_START = 0;
export const NAME_END = 1;
export const VALUE_START = 2;
export const VALUE_END = 3;
export const LINE_END = 4;
export const ID_FLAGS = 5;
export const FOLDED = 0x100;
export const ID_MASK = 0xff;

interface BufferSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** Decodes bytes as UTF-8 (invalid sequences become U+FFFD; never throws). */
export function utf8(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as BufferSlices).utf8Slice(start, end);
}

/** Decodes bytes as Latin-1 (one char per byte; for ASCII tokens). */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as BufferSlices).latin1Slice(start, end);
}

/** Replaces each line break and the LWS around it by one space (RFC 3261 §7.3.1). Linear. */
export function unfold(s: string): string {
  let out = '';
  let from = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x0d && c !== 0x0a) continue;
    let a = i;
    while (a > from && (s.charCodeAt(a - 1) === 0x20 || s.charCodeAt(a - 1) === 0x09)) a--;
    out += s.slice(from, a);
    let b = i;
    while (b < n) {
      const d = s.charCodeAt(b);
      if (d === 0x0d || d === 0x0a || d === 0x20 || d === 0x09) b++;
      else break;
    }
    if (out.length > 0 && b < n) out += ' ';
    from = b;
    i = b - 1;
  }
  return out + s.slice(from);
}

/** Decodes header value i of the table. */
export function rawValue(buf: Buffer, h: HeaderTable, i: number): string {
  const o = i * HS;
  const s = utf8(buf, h[o + VALUE_START] as number, h[o + VALUE_END] as number);
  return ((h[o + ID_FLAGS] as number) & FOLDED) !== 0 ? unfold(s) : s;
}

/** Header name i of the table, as on the wire. */
export function rawName(buf: Buffer, h: HeaderTable, i: number): string {
  const o = i * HS;
  return latin1(buf, h[o + LINE_START] as number, h[o + NAME_END] as number);
}
