/**
 * Outbound calls (originate) before and around their final response, in the calls bucket:
 * `uac.<call>` → UacEntry, the UAC session record (uac/) plus what the wiring learnt from the
 * transport: which instance sent the INVITE (CANCEL, ACK, PRACK and BYE go through it), the
 * FlowRef the INVITE went out on, and the INVITE's top Via (a CANCEL repeats it, RFC 3261 §9.1).
 * CAS by revision like the call entries. Once the 2xx confirms the dialog the call also becomes a
 * regular `call.<call>` entry (dialog role `uac`); the UAC entry stays to ACK retransmitted 2xx
 * and extra forks until it is deleted 64·T1 later (the bucket's max age is the backstop).
 *
 * Like the call store, it remembers what this instance last read or wrote (`cached`): the base of
 * a compare-and-set write without a read first. The responses to an INVITE come back to the
 * instance that sent it, so that base is nearly always current; when it is not, the write fails and
 * the step reads KV again.
 */
import { encodeKvToken } from '@sipnats/bus';
import type { FlowRef } from '@sipnats/contracts';
import type { BindingRef } from '../registrar/unbind.js';
import { BoundedCache } from './call-cache.js';
import { UAC_VERSION, type UacRecord, type UacTimerName } from '../uac/types.js';
import type { KvRecords, Stored } from './kv-records.js';

export const UAC_ENTRY_VERSION = 1;

export interface UacEntry {
  readonly v: typeof UAC_ENTRY_VERSION;
  readonly uac: UacRecord;
  /** Transport instance that holds the current INVITE client transaction. */
  readonly instance?: string;
  /** Flow the INVITE went out on (from its responses). */
  readonly flow?: FlowRef;
  /** Top Via of the current INVITE (from its responses), with the INVITE client transaction it belongs to. */
  readonly via?: { readonly txnRef: string; readonly value: string };
  /** The originate command's X- headers, repeated in every event of the call. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The INVITE must use `flow` (a registered connection-oriented or RFC 5626 flow). */
  readonly pinFlow?: boolean;
  /** The inbound call this leg is bridged to (B2BUA). */
  readonly bridgeOf?: string;
  /** The registered binding this leg calls (a bridge to a registered user): removed on 430 Flow Failed. */
  readonly binding?: BindingRef;
  /** Armed UAC timers: name → due time (ms since the epoch). */
  readonly timers: Readonly<Partial<Record<UacTimerName, number>>>;
}

export function isUacEntry(value: unknown): value is UacEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const u = v['uac'] as Record<string, unknown> | undefined;
  return v['v'] === UAC_ENTRY_VERSION && typeof u === 'object' && u !== null && u['v'] === UAC_VERSION && typeof u['call'] === 'string' && typeof v['timers'] === 'object';
}

export interface UacStore {
  /** Reads the entry from KV (and remembers it). */
  get(call: string): Promise<Stored<UacEntry> | undefined>;
  /** What this instance last read or wrote for the call; may be stale: only a base for `update`. */
  cached(call: string): Stored<UacEntry> | undefined;
  /** Creates the entry; undefined when the id is taken. */
  create(entry: UacEntry): Promise<number | undefined>;
  /** CAS write; undefined when another writer won. */
  update(entry: UacEntry, revision: number): Promise<number | undefined>;
  delete(call: string): Promise<void>;
}

export class KvUacStore implements UacStore {
  readonly #r: KvRecords<UacEntry>;
  readonly #cache: BoundedCache<Stored<UacEntry>>;

  /** `cacheSize`: entries remembered (default 10 000; the least recently written goes first). */
  constructor(records: KvRecords<UacEntry>, cacheSize = 10_000) {
    this.#r = records;
    this.#cache = new BoundedCache(cacheSize);
  }

  static key(call: string): string {
    return `uac.${encodeKvToken(call)}`;
  }

  async get(call: string): Promise<Stored<UacEntry> | undefined> {
    const e = await this.#r.get(KvUacStore.key(call));
    if (e === undefined) this.#cache.delete(call);
    else this.#cache.set(call, e);
    return e;
  }

  cached(call: string): Stored<UacEntry> | undefined {
    return this.#cache.get(call);
  }

  async create(entry: UacEntry): Promise<number | undefined> {
    const revision = await this.#r.create(KvUacStore.key(entry.uac.call), entry);
    if (revision !== undefined) this.#cache.set(entry.uac.call, { value: entry, revision });
    return revision;
  }

  async update(entry: UacEntry, revision: number): Promise<number | undefined> {
    const call = entry.uac.call;
    let next: number | undefined;
    try {
      next = await this.#r.update(KvUacStore.key(call), entry, revision);
    } catch (err) {
      this.#cache.delete(call);
      throw err;
    }
    if (next === undefined) this.#cache.delete(call);
    else this.#cache.set(call, { value: entry, revision: next });
    return next;
  }

  async delete(call: string): Promise<void> {
    this.#cache.delete(call);
    await this.#r.delete(KvUacStore.key(call));
  }
}

interface MemoryUacData {
  readonly m: Map<string, Stored<UacEntry>>;
  readonly max: number;
  rev: number;
}

/** In-memory UacStore (tests; a single process). Bounded: creation fails when full. */
export class MemoryUacStore implements UacStore {
  readonly #d: MemoryUacData;
  readonly #cache: BoundedCache<Stored<UacEntry>>;

  constructor(max = 10_000, shared?: MemoryUacData) {
    this.#d = shared ?? { m: new Map(), max, rev: 0 };
    this.#cache = new BoundedCache(max);
  }

  /** Another instance's view of the same entries: shared data, its own remembered entries (tests). */
  otherInstance(): MemoryUacStore {
    return new MemoryUacStore(this.#d.max, this.#d);
  }

  get size(): number {
    return this.#d.m.size;
  }

  #remember(call: string, e: Stored<UacEntry>): void {
    this.#cache.set(call, { value: structuredClone(e.value), revision: e.revision });
  }

  async get(call: string): Promise<Stored<UacEntry> | undefined> {
    const e = this.#d.m.get(call);
    if (e === undefined) {
      this.#cache.delete(call);
      return undefined;
    }
    this.#remember(call, e);
    return { value: structuredClone(e.value), revision: e.revision };
  }

  cached(call: string): Stored<UacEntry> | undefined {
    const e = this.#cache.get(call);
    return e === undefined ? undefined : { value: structuredClone(e.value), revision: e.revision };
  }

  async create(entry: UacEntry): Promise<number | undefined> {
    if (this.#d.m.has(entry.uac.call) || this.#d.m.size >= this.#d.max) return undefined;
    const revision = ++this.#d.rev;
    this.#d.m.set(entry.uac.call, { value: structuredClone(entry), revision });
    this.#remember(entry.uac.call, { value: entry, revision });
    return revision;
  }

  async update(entry: UacEntry, revision: number): Promise<number | undefined> {
    const call = entry.uac.call;
    const e = this.#d.m.get(call);
    if (e === undefined || e.revision !== revision) {
      this.#cache.delete(call);
      return undefined;
    }
    const next = ++this.#d.rev;
    this.#d.m.set(call, { value: structuredClone(entry), revision: next });
    this.#remember(call, { value: entry, revision: next });
    return next;
  }

  async delete(call: string): Promise<void> {
    this.#cache.delete(call);
    this.#d.m.delete(call);
  }
}
