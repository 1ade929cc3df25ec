/**
 * Trunks to register with (SIPNATS_TRUNKS_FILE): JSON
 * `{ "trunks": [{ "id", "registrar", "aor", "contact", "username", "password", "realm"?, "expires"? }] }`.
 * Errors name the trunk and the field.
 */
import { readFile } from 'node:fs/promises';
import type { TrunkConfig } from './types.js';

export class TrunkFileError extends Error {
  readonly code = 'UA_TRUNK_FILE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrunkFileError';
  }
}

/** Trunks in one file at most. */
export const MAX_TRUNKS = 256;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const URI = /^sips?:[^\s<>]+$/i;

function text(o: Record<string, unknown>, key: string, where: string, pattern?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '' || v.length > 1024 || /[\r\n\0]/.test(v)) throw new TrunkFileError(`${where}: ${key} must be a non-empty single-line string`);
  if (pattern !== undefined && !pattern.test(v)) throw new TrunkFileError(`${where}: ${key} ${JSON.stringify(v.slice(0, 80))} is not valid`);
  return v;
}

export function parseTrunks(json: string): TrunkConfig[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new TrunkFileError('trunks file is not JSON', { cause: err });
  }
  const list = (doc as { trunks?: unknown } | null)?.trunks;
  if (!Array.isArray(list)) throw new TrunkFileError('trunks file: `trunks` must be an array');
  if (list.length > MAX_TRUNKS) throw new TrunkFileError(`trunks file: at most ${MAX_TRUNKS} trunks`);
  const seen = new Set<string>();
  return list.map((item: unknown, i): TrunkConfig => {
    if (typeof item !== 'object' || item === null) throw new TrunkFileError(`trunk #${i + 1}: must be an object`);
    const o = item as Record<string, unknown>;
    const id = text(o, 'id', `trunk #${i + 1}`, ID);
    if (seen.has(id)) throw new TrunkFileError(`trunk ${id}: id used twice`);
    seen.add(id);
    const where = `trunk ${id}`;
    const expires = o['expires'] ?? 3600;
    if (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 1 || expires > 604_800) throw new TrunkFileError(`${where}: expires must be 1..604800 seconds`);
    const password = o['password'];
    if (typeof password !== 'string' || password.length > 1024) throw new TrunkFileError(`${where}: password must be a string`);
    return {
      id,
      registrar: text(o, 'registrar', where, URI),
      aor: text(o, 'aor', where, URI),
      contact: text(o, 'contact', where, URI),
      username: text(o, 'username', where),
      password,
      ...(o['realm'] === undefined ? {} : { realm: text(o, 'realm', where) }),
      expires,
    };
  });
}

export async function loadTrunkFile(path: string): Promise<TrunkConfig[]> {
  let json: string;
  try {
    json = await readFile(path, 'utf8');
  } catch (err) {
    throw new TrunkFileError(`cannot read trunks file ${path}`, { cause: err });
  }
  return parseTrunks(json);
}
