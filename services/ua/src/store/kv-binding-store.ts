/**
 * BindingStore (registrar core) on a JetStream KV bucket: one key per AoR (`aorKey`), CAS by the
 * entry revision. Also lists AoRs for the expiry sweep.
 */
import type { BindingStore, StoredBindings } from '../registrar/binding-store.js';
import { aorKey } from '../registrar/binding-store.js';
import type { BindingSet } from '../registrar/binding.js';
import { isBindingSet } from '../registrar/binding.js';
import type { KvRecords } from './kv-records.js';

/** Told of every binding set a REGISTER stored (null: deleted), by stored key. */
export type BindingWriteObserver = (key: string, set: BindingSet | null) => void;

export class KvBindingStore implements BindingStore {
  readonly #records: KvRecords<BindingSet>;
  #observer: BindingWriteObserver | undefined;

  constructor(records: KvRecords<BindingSet>) {
    this.#records = records;
  }

  static guard(value: unknown): value is BindingSet {
    return isBindingSet(value);
  }

  async get(aor: string): Promise<StoredBindings | undefined> {
    return this.#records.get(aorKey(aor));
  }

  /** Sets the observer of REGISTER writes (the expiry sweep learns next expiries from it). */
  observeWrites(observer: BindingWriteObserver): void {
    this.#observer = observer;
  }

  async put(aor: string, value: BindingSet, expectedRevision: number | undefined): Promise<boolean> {
    const key = aorKey(aor);
    const r = expectedRevision === undefined ? await this.#records.create(key, value) : await this.#records.update(key, value, expectedRevision);
    if (r !== undefined) this.#observer?.(key, value);
    return r !== undefined;
  }

  async delete(aor: string, expectedRevision: number): Promise<boolean> {
    const key = aorKey(aor);
    const ok = await this.#records.delete(key, expectedRevision);
    if (ok) this.#observer?.(key, null);
    return ok;
  }

  /** Stored keys (encoded AoRs), at most `limit`. */
  async keys(limit: number): Promise<string[]> {
    return this.#records.keys('>', limit);
  }

  /** Get by stored key (as listed by keys()). */
  async getByKey(key: string): Promise<StoredBindings | undefined> {
    return this.#records.get(key);
  }

  async putByKey(key: string, value: BindingSet, revision: number): Promise<boolean> {
    return (await this.#records.update(key, value, revision)) !== undefined;
  }

  async deleteByKey(key: string, revision: number): Promise<boolean> {
    return this.#records.delete(key, revision);
  }
}
