/**
 * Subject token encoding.
 *
 * A NATS subject token must not contain `.`, `*`, `>` or whitespace. SIP tokens (RFC 3261 `token`)
 * may contain `.`, `*` and more, so values taken from the wire or from configuration are encoded:
 * the bytes `A-Z a-z 0-9 - _` stay as they are, every other UTF-8 byte becomes `%XX` (upper-case
 * hex), `%` included. The mapping is injective and reversible; `decodeToken` accepts only the
 * canonical form, so every encoded token decodes to exactly one value and back.
 */
import { CONTRACT_ERROR, ContractError } from './errors.js';

/** Longest value (in UTF-8 bytes) that `encodeToken` accepts; anything longer is not a sane token. */
export const MAX_TOKEN_BYTES = 256;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const HEX = '0123456789ABCDEF';

function isSafeByte(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d || // -
    b === 0x5f // _
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** True when `s` is already a string of safe characters only (encodes to itself). */
export function isPlainToken(s: string): boolean {
  if (s.length === 0 || s.length > MAX_TOKEN_BYTES) return false;
  for (let i = 0; i < s.length; i++) {
    if (!isSafeByte(s.charCodeAt(i))) return false;
  }
  return true;
}

/** Encodes any non-empty string (at most MAX_TOKEN_BYTES UTF-8 bytes) as one legal NATS subject token. */
export function encodeToken(value: string): string {
  if (isPlainToken(value)) return value;
  if (value.length === 0) {
    throw new ContractError(CONTRACT_ERROR.token, 'an empty value cannot be a subject token');
  }
  const bytes = utf8.encode(value);
  if (bytes.length > MAX_TOKEN_BYTES) {
    throw new ContractError(CONTRACT_ERROR.token, `value too long for a subject token (${bytes.length} bytes, max ${MAX_TOKEN_BYTES})`);
  }
  let out = '';
  for (const b of bytes) {
    if (isSafeByte(b)) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Decodes a token made by `encodeToken`. Throws ContractError for anything not in canonical form. */
export function decodeToken(token: string): string {
  if (token.length === 0) throw new ContractError(CONTRACT_ERROR.token, 'empty subject token');
  if (token.length > MAX_TOKEN_BYTES * 3) throw new ContractError(CONTRACT_ERROR.token, 'subject token too long');
  const bytes = new Uint8Array(token.length);
  let n = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isSafeByte(c)) {
      bytes[n++] = c;
      continue;
    }
    if (c !== 0x25) throw new ContractError(CONTRACT_ERROR.token, `invalid character at offset ${i} of subject token`);
    if (i + 2 >= token.length) {
      throw new ContractError(CONTRACT_ERROR.token, `truncated escape at offset ${i} of subject token`);
    }
    const hi = hexValue(token.charCodeAt(i + 1));
    const lo = hexValue(token.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) throw new ContractError(CONTRACT_ERROR.token, `invalid escape at offset ${i} of subject token`);
    const b = (hi << 4) | lo;
    if (isSafeByte(b)) throw new ContractError(CONTRACT_ERROR.token, `non-canonical escape at offset ${i} of subject token`);
    bytes[n++] = b;
    i += 2;
  }
  try {
    return strictUtf8.decode(bytes.subarray(0, n));
  } catch (cause) {
    throw new ContractError(CONTRACT_ERROR.token, 'subject token does not decode to UTF-8', { cause });
  }
}
