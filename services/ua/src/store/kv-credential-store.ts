/**
 * CredentialStore (auth core) on a KV bucket (key `<realm>.<user>`, each part a KV token) and a
 * chain of stores consulted in order (users file first, then KV).
 */
import { kvKey } from '@sipnats/bus';
import type { CredentialStore, UserCredentials } from '../auth/credential-store.js';
import type { KvRecords } from './kv-records.js';

const HEX = /^[0-9a-f]+$/;

export function isUserCredentials(value: unknown): value is UserCredentials {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<UserCredentials>;
  if (typeof v.username !== 'string' || typeof v.realm !== 'string' || typeof v.ha1 !== 'object' || v.ha1 === null) return false;
  const { md5, sha256 } = v.ha1;
  const md5Ok = md5 === undefined || (typeof md5 === 'string' && md5.length === 32 && HEX.test(md5));
  const shaOk = sha256 === undefined || (typeof sha256 === 'string' && sha256.length === 64 && HEX.test(sha256));
  return md5Ok && shaOk && (md5 !== undefined || sha256 !== undefined);
}

export class KvCredentialStore implements CredentialStore {
  readonly #records: KvRecords<UserCredentials>;

  constructor(records: KvRecords<UserCredentials>) {
    this.#records = records;
  }

  static key(username: string, realm: string): string {
    return kvKey(realm, username);
  }

  async lookup(username: string, realm: string): Promise<UserCredentials | undefined> {
    if (username === '' || realm === '') return undefined;
    const e = await this.#records.get(KvCredentialStore.key(username, realm));
    if (e === undefined || e.value.username !== username || e.value.realm !== realm) return undefined;
    return e.value;
  }
}

export class ChainedCredentialStore implements CredentialStore {
  readonly #stores: readonly CredentialStore[];

  constructor(stores: readonly CredentialStore[]) {
    this.#stores = stores;
  }

  async lookup(username: string, realm: string): Promise<UserCredentials | undefined> {
    for (const s of this.#stores) {
      const found = await s.lookup(username, realm);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}
