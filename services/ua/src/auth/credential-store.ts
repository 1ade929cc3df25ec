/**
 * Where digest credentials come from. Stores keep HA1 = H(username:realm:password) per hash
 * family, never the password. A KV-backed store implements the same interface (key per
 * `realm/username`, value `UserCredentials` as JSON).
 */
import { readFile } from 'node:fs/promises';
import { computeHa1, hashHexLength } from './digest-algorithm.js';
import type { HashFamily } from './digest-algorithm.js';
import { AuthError, AuthErrorCode } from './errors.js';

export interface UserCredentials {
  readonly username: string;
  readonly realm: string;
  /** HA1 per hash family, lower-case hex; at least one is present. */
  readonly ha1: Readonly<Partial<Record<HashFamily, string>>>;
}

export interface CredentialStore {
  lookup(username: string, realm: string): Promise<UserCredentials | undefined>;
}

/** A read-only store over a fixed list (loaded from a file, or built in tests). */
export class StaticCredentialStore implements CredentialStore {
  readonly #users = new Map<string, UserCredentials>();

  constructor(users: Iterable<UserCredentials>) {
    for (const user of users) this.#users.set(storeKey(user.username, user.realm), user);
  }

  get size(): number {
    return this.#users.size;
  }

  async lookup(username: string, realm: string): Promise<UserCredentials | undefined> {
    return this.#users.get(storeKey(username, realm));
  }
}

function storeKey(username: string, realm: string): string {
  return `${realm}\u0000${username}`;
}

/** Credentials of a user from a clear-text password (for tests and provisioning tools). */
export function credentialsFromPassword(username: string, realm: string, password: string): UserCredentials {
  return {
    username,
    realm,
    ha1: { md5: computeHa1('md5', username, realm, password), sha256: computeHa1('sha256', username, realm, password) },
  };
}

const HEX = /^[0-9a-fA-F]+$/;

function checkHa1(family: HashFamily, value: string, where: string): string | undefined {
  if (value === '') return undefined;
  if (value.length !== hashHexLength(family) || !HEX.test(value)) {
    throw new AuthError(
      AuthErrorCode.CREDENTIAL_FILE,
      `${where}: ${family} HA1 must be ${hashHexLength(family)} hex digits`,
    );
  }
  return value.toLowerCase();
}

function checkName(kind: string, value: string, where: string): string {
  if (value === '' || [...value].some((c) => c === ':' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${where}: ${kind} must be non-empty without ':' or control characters`);
  }
  return value;
}

function entry(username: string, realm: string, md5: string | undefined, sha256: string | undefined, where: string): UserCredentials {
  if (md5 === undefined && sha256 === undefined) {
    throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${where}: neither an MD5 nor a SHA-256 HA1`);
  }
  return {
    username,
    realm,
    ha1: { ...(md5 === undefined ? {} : { md5 }), ...(sha256 === undefined ? {} : { sha256 }) },
  };
}

/**
 * Parses `user:realm:ha1md5:ha1sha256` lines (either HA1 may be empty; `#` starts a comment line;
 * blank lines are skipped). Throws AuthError(UA_AUTH_CREDENTIAL_FILE) naming the line.
 */
export function parseCredentialLines(text: string, source = 'credentials'): UserCredentials[] {
  const users: UserCredentials[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${index + 1}`;
    const fields = line.split(':');
    if (fields.length !== 4) {
      throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${where}: expected user:realm:ha1md5:ha1sha256, got ${fields.length} fields`);
    }
    const [user = '', realm = '', md5 = '', sha = ''] = fields;
    const username = checkName('user', user, where);
    const realmName = checkName('realm', realm, where);
    const key = storeKey(username, realmName);
    if (seen.has(key)) throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${where}: duplicate user ${username}@${realmName}`);
    seen.add(key);
    users.push(entry(username, realmName, checkHa1('md5', md5, where), checkHa1('sha256', sha, where), where));
  });
  return users;
}

/**
 * Parses a JSON credentials document: `{ "users": [ { "username", "realm", "ha1Md5"?,
 * "ha1Sha256"?, "password"? } ] }`. A password is turned into both HA1s at load and not kept.
 */
export function parseCredentialJson(text: string, source = 'credentials'): UserCredentials[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${source}: not valid JSON`, { cause });
  }
  const list = typeof doc === 'object' && doc !== null ? (doc as { users?: unknown }).users : undefined;
  if (!Array.isArray(list)) throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${source}: expected { "users": [...] }`);
  const users: UserCredentials[] = [];
  const seen = new Set<string>();
  list.forEach((item: unknown, index) => {
    const where = `${source}: users[${index}]`;
    if (typeof item !== 'object' || item === null) throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${where}: not an object`);
    const rec = item as Record<string, unknown>;
    const str = (name: string): string | undefined => {
      const v = rec[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${where}: ${name} must be a string`);
      return v;
    };
    const username = checkName('username', str('username') ?? '', where);
    const realm = checkName('realm', str('realm') ?? '', where);
    const key = storeKey(username, realm);
    if (seen.has(key)) throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `${where}: duplicate user ${username}@${realm}`);
    seen.add(key);
    const password = str('password');
    if (password !== undefined) {
      users.push(credentialsFromPassword(username, realm, password));
      return;
    }
    users.push(entry(username, realm, checkHa1('md5', str('ha1Md5') ?? '', where), checkHa1('sha256', str('ha1Sha256') ?? '', where), where));
  });
  return users;
}

/** Loads a credentials file: JSON when it starts with `{`, else the line format. */
export async function loadCredentialFile(path: string): Promise<StaticCredentialStore> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AuthError(AuthErrorCode.CREDENTIAL_FILE, `cannot read credentials file ${path}`, { cause });
  }
  const users = text.trimStart().startsWith('{') ? parseCredentialJson(text, path) : parseCredentialLines(text, path);
  return new StaticCredentialStore(users);
}
