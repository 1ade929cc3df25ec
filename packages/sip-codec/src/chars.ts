/**
 * Byte class tables shared by the scanners: one read per byte, no regular expressions.
 */

/** The byte values from..to, inclusive. */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let c = from; c <= to; c++) out.push(c);
  return out;
}

/** The byte values of an ASCII string. */
export function codes(s: string): number[] {
  return Array.from(s, (ch) => ch.charCodeAt(0));
}

/** Sets `bits` in the table entry of each byte value. */
export function setBits(table: Uint8Array, bytes: Iterable<number>, bits: number): void {
  for (const c of bytes) table[c] = (table[c] as number) | bits;
}

/** Clears `bits` in the table entry of each byte value. */
export function clearBits(table: Uint8Array, bytes: Iterable<number>, bits: number): void {
  for (const c of bytes) table[c] = (table[c] as number) & ~bits;
}

export const DIGITS: readonly number[] = range(0x30, 0x39);
export const ALPHA: readonly number[] = [...range(0x41, 0x5a), ...range(0x61, 0x7a)];
export const HEX_LETTERS: readonly number[] = codes('abcdefABCDEF');

/** RFC 3261 token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"). */
export const TOKEN_BYTES: readonly number[] = [...DIGITS, ...ALPHA, ...codes("-.!%*_+`'~")];

/** 1 for a token byte, 0 for any other byte (256 entries). */
export const TOKEN = new Uint8Array(256);
setBits(TOKEN, TOKEN_BYTES, 1);
