/**
 * Outbound calls (originate) before and around their final response, in the calls bucket:
 * `uac.<call>` → UacEntry, the UAC session record (uac/) plus what the wiring learnt from the
 * transport: which instance sent the INVITE (CANCEL, ACK, PRACK and BYE go through it), the
 * FlowRef the INVITE went out on, and the INVITE's top Via (a CANCEL repeats it, RFC 3261 §9.1).
 * CAS by revision like the call entries. Once the 2xx confirms the dialog the call also becomes a
 * regular `call.<call>` entry (dialog role `uac`); the UAC entry stays to ACK retransmitted 2xx
 * and extra forks until it is deleted 64·T1 later (the bucket's max age is the backstop).
 */
import { encodeKvToken } from '@sipnats/bus';
import type { FlowRef } from '@sipnats/contracts';
import type { BindingRef } from '../registrar/unbind.js';
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
  get(call: string): Promise<Stored<UacEntry> | undefined>;
  /** Creates the entry; undefined when the id is taken. */
  create(entry: UacEntry): Promise<number | undefined>;
  /** CAS write; undefined when another writer won. */
  update(entry: UacEntry, revision: number): Promise<number | undefined>;
  delete(call: string): Promise<void>;
}

export class KvUacStore implements UacStore {
  readonly #r: KvRecords<UacEntry>;

  constructor(records: KvRecords<UacEntry>) {
    this.#r = records;
  }

  static key(call: string): string {
    return `uac.${encodeKvToken(call)}`;
  }

  get(call: string): Promise<Stored<UacEntry> | undefined> {
    return this.#r.get(KvUacStore.key(call));
  }

  create(entry: UacEntry): Promise<number | undefined> {
    return this.#r.create(KvUacStore.key(entry.uac.call), entry);
  }

  update(entry: UacEntry, revision: number): Promise<number | undefined> {
    return this.#r.update(KvUacStore.key(entry.uac.call), entry, revision);
  }

  async delete(call: string): Promise<void> {
    await this.#r.delete(KvUacStore.key(call));
  }
}

/** In-memory UacStore (tests; a single process). Bounded: creation fails when full. */
export class MemoryUacStore implements UacStore {
  readonly #m = new Map<string, Stored<UacEntry>>();
  readonly #max: number;
  #rev = 0;

  constructor(max = 10_000) {
    this.#max = max;
  }

  get size(): number {
    return this.#m.size;
  }

  async get(call: string): Promise<Stored<UacEntry> | undefined> {
    const e = this.#m.get(call);
    return e === undefined ? undefined : { value: structuredClone(e.value), revision: e.revision };
  }

  async create(entry: UacEntry): Promise<number | undefined> {
    if (this.#m.has(entry.uac.call) || this.#m.size >= this.#max) return undefined;
    const revision = ++this.#rev;
    this.#m.set(entry.uac.call, { value: structuredClone(entry), revision });
    return revision;
  }

  async update(entry: UacEntry, revision: number): Promise<number | undefined> {
    const e = this.#m.get(entry.uac.call);
    if (e === undefined || e.revision !== revision) return undefined;
    const next = ++this.#rev;
    this.#m.set(entry.uac.call, { value: structuredClone(entry), revision: next });
    return next;
  }

  async delete(call: string): Promise<void> {
    this.#m.delete(call);
  }
}
