/**
 * Token encoding.
 *
 * A NATS subject token must not contain `.`, `*`, `>` or whitespace. SIP tokens (RFC 3261 `token`)
 * may contain `.`, `*` and more, so values taken from the wire or from configuration are encoded:
 * the bytes `A-Z a-z 0-9 - _` stay as they are, every other UTF-8 byte becomes `%XX` (upper-case
 * hex), `%` included. The mapping is injective and reversible; `decodeToken` accepts only the
 * canonical form, so every encoded token decodes to exactly one value and back.
 *
 * The same scheme with another escape character (`escapeToken`, `unescapeToken`) makes JetStream
 * KV key tokens (`=XX`, as `%` is not allowed in KV keys).
 */
import { CONTRACT_ERROR, ContractError } from './errors.js';

/** Longest value (in UTF-8 bytes) that `encodeToken` accepts; anything longer is not a sane token. */
export const MAX_TOKEN_BYTES = 256;

/** How a token escapes its bytes. */
export interface TokenEscape {
  /** The escape character: `%` for subject tokens, `=` for KV keys. Not a safe byte. */
  readonly marker: '%' | '=';
  /** Longest value in UTF-8 bytes. */
  readonly maxBytes: number;
}

const SUBJECT_TOKEN: TokenEscape = { marker: '%', maxBytes: MAX_TOKEN_BYTES };

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

/** False when `s` holds a lone UTF-16 surrogate (String.prototype.isWellFormed, ES2024). */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

function tokenError(message: string, cause?: unknown): ContractError {
  return new ContractError(CONTRACT_ERROR.token, message, cause === undefined ? undefined : { cause });
}

/** True when `s` is already a string of safe characters only (encodes to itself). */
export function isPlainToken(s: string): boolean {
  if (s.length === 0 || s.length > MAX_TOKEN_BYTES) return false;
  for (let i = 0; i < s.length; i++) {
    if (!isSafeByte(s.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * Encodes a non-empty string (at most `e.maxBytes` UTF-8 bytes, no lone surrogate) as a token of
 * `A-Z a-z 0-9 - _` and `<marker>XX` escapes. Throws ContractError (SIPNATS_ERR_TOKEN) otherwise.
 */
export function escapeToken(value: string, e: TokenEscape): string {
  if (value.length === 0) throw tokenError('an empty value cannot be a token');
  if (!isWellFormed(value)) {
    // TextEncoder would turn a lone surrogate into U+FFFD: two values, one token.
    throw tokenError('a value with a lone UTF-16 surrogate cannot be a token');
  }
  const bytes = utf8.encode(value);
  if (bytes.length > e.maxBytes) throw tokenError(`value too long for a token (${bytes.length} bytes, max ${e.maxBytes})`);
  let out = '';
  for (const b of bytes) {
    if (isSafeByte(b)) out += String.fromCharCode(b);
    else out += e.marker + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Decodes a token made by `escapeToken` with the same `e`; ContractError for anything not canonical. */
export function unescapeToken(token: string, e: TokenEscape): string {
  if (token.length === 0) throw tokenError('empty token');
  if (token.length > e.maxBytes * 3) throw tokenError('token too long');
  const marker = e.marker.charCodeAt(0);
  const bytes = new Uint8Array(token.length);
  let n = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isSafeByte(c)) {
      bytes[n++] = c;
      continue;
    }
    if (c !== marker) throw tokenError(`invalid character at offset ${i} of token`);
    if (i + 2 >= token.length) throw tokenError(`truncated escape at offset ${i} of token`);
    const hi = hexValue(token.charCodeAt(i + 1));
    const lo = hexValue(token.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) throw tokenError(`invalid escape at offset ${i} of token`);
    const b = (hi << 4) | lo;
    if (isSafeByte(b)) throw tokenError(`non-canonical escape at offset ${i} of token`);
    bytes[n++] = b;
    i += 2;
  }
  if (n > e.maxBytes) throw tokenError(`token decodes to ${n} bytes, max ${e.maxBytes}`);
  try {
    return strictUtf8.decode(bytes.subarray(0, n));
  } catch (cause) {
    throw tokenError('token does not decode to UTF-8', cause);
  }
}

/** Encodes any non-empty string (at most MAX_TOKEN_BYTES UTF-8 bytes) as one legal NATS subject token. */
export function encodeToken(value: string): string {
  return isPlainToken(value) ? value : escapeToken(value, SUBJECT_TOKEN);
}

/** Decodes a token made by `encodeToken`. Throws ContractError for anything not in canonical form. */
export function decodeToken(token: string): string {
  return unescapeToken(token, SUBJECT_TOKEN);
}
