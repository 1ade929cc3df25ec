/**
 * Instance-local memory of what this instance last read or wrote in the calls bucket: call entries
 * with their revision (of ended calls only what their removal needs), and the dialog index
 * (Call-ID + peer tag → call). Bounded; the least recently written goes first when full.
 *
 * A cached entry may be stale (another instance wrote since): it is only used as the base of a
 * compare-and-set write, which then fails and the caller reads KV again. A cached dialog-index
 * entry can only outlive its call (the index never changes while the call exists): a lookup through
 * it that finds no call is retried against KV.
 */
import type { CallEntry } from './call-store.js';
import type { Stored } from './kv-records.js';

export class BoundedCache<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError('cache size must be a non-negative integer');
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    if (this.#max === 0) return;
    // Re-inserting moves the key to the young end: eviction drops the least recently written.
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#map.delete(key);
  }
}

/**
 * What removing an ended call needs (entry revision, dialog index, mark): all that is kept of an
 * ended call, so the thousands that wait out their grace period cost little memory.
 */
export interface RemovalTicket {
  readonly call: string;
  readonly callId: string;
  readonly remoteTag: string;
  readonly revision: number;
  readonly removeAt: number;
  readonly markAt?: number;
}

/** The ticket of a stored entry that ended (undefined while the call is up). */
export function removalTicket(stored: Stored<CallEntry>): RemovalTicket | undefined {
  const e = stored.value;
  if (e.removeAt === undefined) return undefined;
  const d = e.dialog;
  return { call: d.call, callId: d.callId, remoteTag: d.remoteTag, revision: stored.revision, removeAt: e.removeAt, ...(e.markAt === undefined ? {} : { markAt: e.markAt }) };
}

export interface CallCacheSizes {
  /** Entries of calls that are up. */
  readonly entries: number;
  /** Removal tickets of ended calls. */
  readonly tickets: number;
  /** Dialog-index lookups. */
  readonly index: number;
}

/** What a call store remembers: entries of calls that are up, tickets of ended ones, the index. */
export class CallCache {
  readonly #entries: BoundedCache<Stored<CallEntry>>;
  readonly #tickets: BoundedCache<RemovalTicket>;
  readonly index: BoundedCache<string>;

  constructor(sizes: CallCacheSizes) {
    this.#entries = new BoundedCache<Stored<CallEntry>>(sizes.entries);
    this.#tickets = new BoundedCache<RemovalTicket>(sizes.tickets);
    this.index = new BoundedCache<string>(sizes.index);
  }

  /** The remembered entry of a call that is up. */
  entry(call: string): Stored<CallEntry> | undefined {
    return this.#entries.get(call);
  }

  ticket(call: string): RemovalTicket | undefined {
    return this.#tickets.get(call);
  }

  /** Remembers what was read or written: the entry while the call is up, its ticket once it ended. */
  remember(call: string, stored: Stored<CallEntry>): void {
    const ticket = removalTicket(stored);
    if (ticket === undefined) {
      this.#tickets.delete(call);
      this.#entries.set(call, stored);
    } else {
      this.#entries.delete(call);
      this.#tickets.set(call, ticket);
    }
  }

  forget(call: string): void {
    this.#entries.delete(call);
    this.#tickets.delete(call);
  }

  static indexKey(callId: string, peerTag: string): string {
    return `${callId}\u0000${peerTag}`;
  }
}
