/**
 * Calls in one KV bucket, shared by every ua instance:
 *
 * - `call.<call>`              → CallEntry: the core's DialogRecord plus what the service needs
 *                                (the transport flow, armed timers); CAS by revision.
 * - `dlg.<Call-ID>.<peer tag>` → `{ call }`: finds the call of any request from the peer (its From
 *                                tag is the dialog's remote tag: INVITE, CANCEL, ACK, BYE...).
 * - `tmr.<call>`               → `{ at }`: present while the call has an armed timer; the sweep of
 *                                every instance lists these keys to fire due timers.
 *
 * Each part is encoded as one KV token. The bucket's max age bounds how long anything stays.
 */
import { encodeKvToken, decodeKvToken, kvKey } from '@sipnats/bus';
import type { FlowRef } from '@sipnats/contracts';
import { DIALOG_VERSION, type DialogRecord, type TimerName } from '../dialog/types.js';
import type { KvRecords, Stored } from './kv-records.js';

export const CALL_ENTRY_VERSION = 1;

export interface CallEntry {
  readonly v: typeof CALL_ENTRY_VERSION;
  readonly dialog: DialogRecord;
  /** The transport flow requests of this call go out on (the INVITE's, then the latest request's). */
  readonly flow: FlowRef;
  /** Transport instance that owns the INVITE server transaction. */
  readonly inviteInstance: string;
  /** Transport instance of the latest request from the peer (owner of its server transaction). */
  readonly peerInstance: string;
  /** Custom X- headers of the INVITE, repeated in every event of the call. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Policy SIPNATS_UPDATE_POLICY=controller: accept the peer's pending offer at this time. */
  readonly updateDeadline?: number;
  /** Armed timers: name → due time (ms since the epoch). */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
}

export interface CallIndex {
  readonly call: string;
}

export interface TimerMark {
  readonly at: number;
}

/** Anything stored in the calls bucket. */
export type CallsValue = CallEntry | CallIndex | TimerMark;

export function isCallsValue(value: unknown): value is CallsValue {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v['call'] === 'string' && v['v'] === undefined) return true;
  if (typeof v['at'] === 'number' && v['v'] === undefined) return true;
  const d = v['dialog'] as Record<string, unknown> | undefined;
  return (
    v['v'] === CALL_ENTRY_VERSION &&
    typeof d === 'object' &&
    d !== null &&
    d['v'] === DIALOG_VERSION &&
    typeof d['call'] === 'string' &&
    typeof v['flow'] === 'object' &&
    typeof v['timers'] === 'object'
  );
}

function isEntry(v: CallsValue): v is CallEntry {
  return (v as CallEntry).dialog !== undefined;
}

/** The earliest armed timer of an entry. */
export function earliestTimer(entry: Pick<CallEntry, 'timers' | 'updateDeadline'>): number | undefined {
  let min: number | undefined = entry.updateDeadline;
  for (const at of Object.values(entry.timers)) if (at !== undefined && (min === undefined || at < min)) min = at;
  return min;
}

export interface CallStore {
  get(call: string): Promise<Stored<CallEntry> | undefined>;
  /** Creates the call; undefined when the id is taken. */
  create(entry: CallEntry): Promise<number | undefined>;
  /** CAS write; undefined when another writer won. */
  update(entry: CallEntry, revision: number): Promise<number | undefined>;
  /** Claims the dialog index for a new call; false when a call already holds it. */
  claimIndex(callId: string, peerTag: string, call: string): Promise<boolean>;
  /** The call of a request from the peer, by Call-ID and the peer's tag. */
  findByDialog(callId: string, peerTag: string): Promise<string | undefined>;
  /** Sets or clears the timer mark of a call. */
  markTimer(call: string, at: number | undefined): Promise<void>;
  /** Calls with an armed timer (from the marks), at most `limit`. */
  timerCalls(limit: number): Promise<string[]>;
  /** Calls stored (up to `limit`), for the active-dialogs gauge. */
  countCalls(limit: number): Promise<number>;
}

export class KvCallStore implements CallStore {
  readonly #r: KvRecords<CallsValue>;

  constructor(records: KvRecords<CallsValue>) {
    this.#r = records;
  }

  static callKey(call: string): string {
    return `call.${encodeKvToken(call)}`;
  }

  async get(call: string): Promise<Stored<CallEntry> | undefined> {
    const e = await this.#r.get(KvCallStore.callKey(call));
    if (e === undefined || !isEntry(e.value)) return undefined;
    return { value: e.value, revision: e.revision };
  }

  create(entry: CallEntry): Promise<number | undefined> {
    return this.#r.create(KvCallStore.callKey(entry.dialog.call), entry);
  }

  update(entry: CallEntry, revision: number): Promise<number | undefined> {
    return this.#r.update(KvCallStore.callKey(entry.dialog.call), entry, revision);
  }

  async claimIndex(callId: string, peerTag: string, call: string): Promise<boolean> {
    return (await this.#r.create(kvKey('dlg', callId, peerTag), { call })) !== undefined;
  }

  async findByDialog(callId: string, peerTag: string): Promise<string | undefined> {
    const e = await this.#r.get(kvKey('dlg', callId, peerTag));
    if (e === undefined) return undefined;
    const v = e.value as Partial<CallIndex>;
    return typeof v.call === 'string' ? v.call : undefined;
  }

  async markTimer(call: string, at: number | undefined): Promise<void> {
    const key = `tmr.${encodeKvToken(call)}`;
    if (at === undefined) await this.#r.delete(key);
    else await this.#r.put(key, { at });
  }

  async timerCalls(limit: number): Promise<string[]> {
    const keys = await this.#r.keys('tmr.*', limit);
    const out: string[] = [];
    for (const k of keys) {
      try {
        out.push(decodeKvToken(k.slice(4)));
      } catch {
        // not one of ours: ignore
      }
    }
    return out;
  }

  async countCalls(limit: number): Promise<number> {
    return (await this.#r.keys('call.*', limit)).length;
  }
}

/** In-memory CallStore for unit tests and single-process use (bounded). */
export class MemoryCallStore implements CallStore {
  readonly #calls = new Map<string, Stored<CallEntry>>();
  readonly #index = new Map<string, string>();
  readonly #marks = new Map<string, number>();
  readonly #max: number;
  #rev = 0;

  constructor(maxCalls = 10_000) {
    this.#max = maxCalls;
  }

  async get(call: string): Promise<Stored<CallEntry> | undefined> {
    const e = this.#calls.get(call);
    return e === undefined ? undefined : { value: structuredClone(e.value), revision: e.revision };
  }

  async create(entry: CallEntry): Promise<number | undefined> {
    if (this.#calls.has(entry.dialog.call)) return undefined;
    if (this.#calls.size >= this.#max) throw new RangeError(`call store full (${this.#max})`);
    const revision = ++this.#rev;
    this.#calls.set(entry.dialog.call, { value: structuredClone(entry), revision });
    return revision;
  }

  async update(entry: CallEntry, revision: number): Promise<number | undefined> {
    const cur = this.#calls.get(entry.dialog.call);
    if (cur === undefined || cur.revision !== revision) return undefined;
    const next = ++this.#rev;
    this.#calls.set(entry.dialog.call, { value: structuredClone(entry), revision: next });
    return next;
  }

  async claimIndex(callId: string, peerTag: string, call: string): Promise<boolean> {
    const k = `${callId}\u0000${peerTag}`;
    if (this.#index.has(k)) return false;
    this.#index.set(k, call);
    return true;
  }

  async findByDialog(callId: string, peerTag: string): Promise<string | undefined> {
    return this.#index.get(`${callId}\u0000${peerTag}`);
  }

  async markTimer(call: string, at: number | undefined): Promise<void> {
    if (at === undefined) this.#marks.delete(call);
    else this.#marks.set(call, at);
  }

  async timerCalls(limit: number): Promise<string[]> {
    return [...this.#marks.keys()].slice(0, limit);
  }

  async countCalls(limit: number): Promise<number> {
    return Math.min(limit, this.#calls.size);
  }
}
