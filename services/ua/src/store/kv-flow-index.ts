/**
 * FlowIndexStore (registrar/flow-index.ts) on its own JetStream KV bucket: key
 * `<instance>.<flow id>` (each part one KV token), CAS by the entry revision. The bucket's max age
 * removes entries of flows whose close was never handled (a transport killed, an event lost); it
 * must outlive every binding it indexes: `reindexAfterMs` says how often a binding's entry has to
 * be written again for that, from the bucket's actual max age.
 */
import { BusError, kvKey } from '@sipnats/bus';
import type { FlowAors, FlowIndexStore, FlowKey, StoredFlowAors } from '../registrar/flow-index.js';
import { isFlowAors } from '../registrar/flow-index.js';
import type { KvRecords } from './kv-records.js';

/** Spare time between an index entry's expiry and the latest expiry of a binding it indexes. */
export const FLOW_INDEX_MARGIN_MS = 60_000;

/** Max age of a new flow index bucket for registrations of at most `maxExpires` seconds. */
export function flowIndexTtlMs(maxExpires: number): number {
  return 2 * maxExpires * 1000 + 2 * FLOW_INDEX_MARGIN_MS;
}

/**
 * How long after indexing a binding its entry must be written again, for a bucket of max age
 * `ttlMs` (0: none) and registrations of at most `maxExpires` seconds: an entry written at t lives
 * until t + ttl, a binding refreshed at r expires by r + maxExpires, so r - t must stay below
 * ttl - maxExpires (less a margin). 0: on every REGISTER (a bucket made with a shorter age).
 */
export function flowReindexAfterMs(ttlMs: number, maxExpires: number): number {
  if (ttlMs <= 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, ttlMs - maxExpires * 1000 - FLOW_INDEX_MARGIN_MS);
}

export class KvFlowIndexStore implements FlowIndexStore {
  readonly #records: KvRecords<FlowAors>;

  constructor(records: KvRecords<FlowAors>) {
    this.#records = records;
  }

  static guard(value: unknown): value is FlowAors {
    return isFlowAors(value);
  }

  /** The KV key of a flow; undefined for one that cannot be a key (an over-long id from a foreign event). */
  static key(flow: FlowKey): string | undefined {
    try {
      return kvKey(flow.instance, flow.id);
    } catch (err) {
      if (err instanceof BusError) return undefined;
      throw err;
    }
  }

  async get(flow: FlowKey): Promise<StoredFlowAors | undefined> {
    const key = KvFlowIndexStore.key(flow);
    return key === undefined ? undefined : this.#records.get(key);
  }

  async put(flow: FlowKey, value: FlowAors, expectedRevision: number | undefined): Promise<boolean> {
    const key = KvFlowIndexStore.key(flow);
    if (key === undefined) return false;
    const r = expectedRevision === undefined ? await this.#records.create(key, value) : await this.#records.update(key, value, expectedRevision);
    return r !== undefined;
  }

  async delete(flow: FlowKey, expectedRevision: number): Promise<boolean> {
    const key = KvFlowIndexStore.key(flow);
    return key === undefined ? false : this.#records.delete(key, expectedRevision);
  }
}
