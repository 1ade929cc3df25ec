/**
 * KV keys from SIP values. A KV key is `.`-separated tokens of `[-/_=.A-Za-z0-9]`; `kvKey` encodes
 * each part so any string (Call-ID, tag, AOR) becomes one token: `A-Z a-z 0-9 - _` stay, every other
 * UTF-8 byte becomes `=XX` (upper-case hex). Reversible with `decodeKvToken`.
 */
import { BUS_ERROR, BusError } from './errors.js';

const HEX = '0123456789ABCDEF';
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** Longest key accepted (NATS subjects are practical up to a few hundred bytes). */
export const MAX_KV_KEY_LENGTH = 1024;

function safe(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f;
}

export function encodeKvToken(value: string): string {
  if (value.length === 0) throw new BusError(BUS_ERROR.kvKey, 'an empty value cannot be a KV key token');
  let out = '';
  for (const b of utf8.encode(value)) out += safe(b) ? String.fromCharCode(b) : `=${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

export function decodeKvToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (safe(c)) {
      bytes.push(c);
      continue;
    }
    const hex = token.slice(i + 1, i + 3);
    if (c !== 0x3d || !/^[0-9A-F]{2}$/.test(hex)) throw new BusError(BUS_ERROR.kvKey, `invalid KV key token ${JSON.stringify(token)}`);
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  try {
    return strictUtf8.decode(new Uint8Array(bytes));
  } catch (cause) {
    throw new BusError(BUS_ERROR.kvKey, `KV key token ${JSON.stringify(token)} is not UTF-8`, { cause });
  }
}

/** Builds a legal KV key from parts, each encoded as one token. */
export function kvKey(...parts: readonly string[]): string {
  if (parts.length === 0) throw new BusError(BUS_ERROR.kvKey, 'a KV key needs at least one part');
  const key = parts.map(encodeKvToken).join('.');
  if (key.length > MAX_KV_KEY_LENGTH) throw new BusError(BUS_ERROR.kvKey, `KV key too long (${key.length} > ${MAX_KV_KEY_LENGTH})`);
  return key;
}
