/**
 * Leases in the calls bucket (`lease.<name>` → `{ owner, until }`), so one ua instance at a time
 * does a job every instance is configured for (registering a trunk). Taken with `create`, renewed
 * and taken over (once `until` passed) with compare-and-set.
 */
import { encodeKvToken } from '@sipnats/bus';
import type { KvRecords, Stored } from './kv-records.js';

export interface Lease {
  readonly owner: string;
  /** ms since the epoch. */
  readonly until: number;
}

export function isLease(value: unknown): value is Lease {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['owner'] === 'string' && typeof v['until'] === 'number' && Object.keys(v).length === 2;
}

export interface LeaseStore {
  get(name: string): Promise<Stored<Lease> | undefined>;
  create(name: string, lease: Lease): Promise<number | undefined>;
  update(name: string, lease: Lease, revision: number): Promise<number | undefined>;
}

export class KvLeaseStore implements LeaseStore {
  readonly #r: KvRecords<Lease>;

  constructor(records: KvRecords<Lease>) {
    this.#r = records;
  }

  static key(name: string): string {
    return `lease.${encodeKvToken(name)}`;
  }

  get(name: string): Promise<Stored<Lease> | undefined> {
    return this.#r.get(KvLeaseStore.key(name));
  }

  create(name: string, lease: Lease): Promise<number | undefined> {
    return this.#r.create(KvLeaseStore.key(name), lease);
  }

  update(name: string, lease: Lease, revision: number): Promise<number | undefined> {
    return this.#r.update(KvLeaseStore.key(name), lease, revision);
  }
}

/** In-memory LeaseStore (tests), shared between the instances of one test. */
export class MemoryLeaseStore implements LeaseStore {
  readonly #m = new Map<string, Stored<Lease>>();
  #rev = 0;

  async get(name: string): Promise<Stored<Lease> | undefined> {
    return this.#m.get(name);
  }

  async create(name: string, lease: Lease): Promise<number | undefined> {
    if (this.#m.has(name)) return undefined;
    this.#m.set(name, { value: lease, revision: ++this.#rev });
    return this.#rev;
  }

  async update(name: string, lease: Lease, revision: number): Promise<number | undefined> {
    if (this.#m.get(name)?.revision !== revision) return undefined;
    this.#m.set(name, { value: lease, revision: ++this.#rev });
    return this.#rev;
  }
}

/** Takes or renews the lease `name` for `owner` until `now + ttlMs`; true when held. */
export async function holdLease(store: LeaseStore, name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
  const lease: Lease = { owner, until: now + ttlMs };
  const current = await store.get(name);
  if (current === undefined) return (await store.create(name, lease)) !== undefined;
  if (current.value.owner !== owner && current.value.until > now) return false;
  return (await store.update(name, lease, current.revision)) !== undefined;
}
