/**
 * KV keys from SIP values. A KV key is `.`-separated tokens of `[-/_=.A-Za-z0-9]`; `kvKey` encodes
 * each part so any string (Call-ID, tag, AOR) becomes one token: `A-Z a-z 0-9 - _` stay, every other
 * UTF-8 byte becomes `=XX` (upper-case hex): the subject token scheme of @sipnats/contracts with `=`
 * for `%`. Reversible with `decodeKvToken`, which accepts only that canonical form.
 */
import { ContractError, escapeToken, unescapeToken, type TokenEscape } from '@sipnats/contracts';
import { BUS_ERROR, BusError } from './errors.js';

/** Longest key accepted (NATS subjects are practical up to a few hundred bytes). */
export const MAX_KV_KEY_LENGTH = 1024;

const KV_TOKEN: TokenEscape = { marker: '=', maxBytes: MAX_KV_KEY_LENGTH };

function keyError(err: unknown, what: string): unknown {
  return err instanceof ContractError ? new BusError(BUS_ERROR.kvKey, `${what}: ${err.message}`, { cause: err }) : err;
}

export function encodeKvToken(value: string): string {
  try {
    return escapeToken(value, KV_TOKEN);
  } catch (err) {
    throw keyError(err, 'value cannot be a KV key token');
  }
}

export function decodeKvToken(token: string): string {
  try {
    return unescapeToken(token, KV_TOKEN);
  } catch (err) {
    throw keyError(err, `invalid KV key token ${JSON.stringify(token.slice(0, 64))}`);
  }
}

/** Builds a legal KV key from parts, each encoded as one token. */
export function kvKey(...parts: readonly string[]): string {
  if (parts.length === 0) throw new BusError(BUS_ERROR.kvKey, 'a KV key needs at least one part');
  const key = parts.map(encodeKvToken).join('.');
  if (key.length > MAX_KV_KEY_LENGTH) throw new BusError(BUS_ERROR.kvKey, `KV key too long (${key.length} > ${MAX_KV_KEY_LENGTH})`);
  return key;
}
