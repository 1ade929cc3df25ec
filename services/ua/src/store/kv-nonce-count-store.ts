/**
 * NonceCountStore (auth core) on a JetStream KV bucket whose max age is the nonce lifetime, so
 * counts vanish with their nonces. Value: `{ "nc": <n> }`.
 */
import type { NonceCountEntry, NonceCountStore } from '../auth/nonce-count-store.js';
import type { KvRecords } from './kv-records.js';

export interface NonceCountValue {
  readonly nc: number;
}

export function isNonceCountValue(value: unknown): value is NonceCountValue {
  return typeof value === 'object' && value !== null && Number.isInteger((value as { nc?: unknown }).nc) && (value as { nc: number }).nc >= 0;
}

export class KvNonceCountStore implements NonceCountStore {
  readonly #records: KvRecords<NonceCountValue>;

  constructor(records: KvRecords<NonceCountValue>) {
    this.#records = records;
  }

  async get(key: string): Promise<NonceCountEntry | undefined> {
    const e = await this.#records.get(key);
    return e === undefined ? undefined : { nc: e.value.nc, revision: e.revision };
  }

  async create(key: string, nc: number): Promise<boolean> {
    return (await this.#records.create(key, { nc })) !== undefined;
  }

  async update(key: string, nc: number, expectedRevision: number): Promise<boolean> {
    return (await this.#records.update(key, { nc }, expectedRevision)) !== undefined;
  }
}
