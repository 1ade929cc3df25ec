/**
 * Calls in one KV bucket, shared by every ua instance:
 *
 * - `call.<call>`              → CallEntry: the core's DialogRecord plus what the service needs
 *                                (the transport flow, armed timers); CAS by revision.
 * - `dlg.<Call-ID>.<peer tag>` → `{ call }`: finds the call of any request from the peer (its From
 *                                tag is the dialog's remote tag: INVITE, CANCEL, ACK, BYE...).
 * - `tmr.<second>.<call>`      → `{ at }`: the call has a timer or an update deadline due at or
 *                                after that second. The second is in the key, so a sweep lists
 *                                only the seconds that passed instead of every mark. A mark may be
 *                                early (the sweep then finds nothing due and moves it), never later
 *                                than the entry's earliest due time: `CallEntry.markAt` says where.
 * - `rmq.<second>.<instance>.<n>` → `{ removals }`: calls that instance ended, to be removed at or
 *                                after that second (chunk n of its list). An ended call stays for a
 *                                grace period, then the local timer of the instance that ended it
 *                                removes it (entry and index); these lists, written once a second
 *                                per instance instead of a mark per call, are how another instance
 *                                finds the calls to remove when that one died (runtime/removals.ts).
 *
 * Each part is encoded as one KV token. The bucket's max age bounds how long anything stays.
 *
 * Reads and writes are remembered per instance (CallCache): `cached()` gives the last known entry
 * and revision, a base for a compare-and-set write without a read first.
 */
import { encodeKvToken, decodeKvToken, kvKey } from '@sipnats/bus';
import type { FlowRef } from '@sipnats/contracts';
import { DIALOG_VERSION, type DialogRecord, type TimerName } from '../dialog/types.js';
import { callOfOutboundCallId } from '../uac/call-id.js';
import { CallCache, type RemovalTicket } from './call-cache.js';
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
  /**
   * Max-Forwards of the inbound INVITE (0..255): a bridge starts its legs one lower, so a routing
   * loop ends. Absent in entries written before it existed, or when the INVITE had none.
   */
  readonly maxForwards?: number;
  /** Inbound call bridged (B2BUA): its outbound legs and the final statuses of those that failed. */
  readonly bridge?: BridgeState;
  /** Outbound leg of a bridge: the inbound call it belongs to. */
  readonly bridgeOf?: string;
  /** Policy SIPNATS_UPDATE_POLICY=controller: accept the peer's pending offer at this time. */
  readonly updateDeadline?: number;
  /** Armed timers: name → due time (ms since the epoch). */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
  /** The call ended: remove it (entry, dialog index, timer mark) at this time. */
  readonly removeAt?: number;
  /** Due time of the call's timer mark (`tmr.<second>.<call>`), when it has one. */
  readonly markAt?: number;
}

export interface BridgeState {
  readonly legs: readonly string[];
  readonly failed: readonly { readonly leg: string; readonly status: number }[];
  /** The inbound INVITE had no SDP: the answering leg's 2xx offer is relayed, the caller's ACK answers it. */
  readonly lateOffer?: boolean;
  /** The leg whose answer answered the inbound call. */
  readonly answered?: string;
}

export interface CallIndex {
  readonly call: string;
}

export interface TimerMark {
  readonly at: number;
}

/** Calls one instance ended, to remove at or after the second of the list's key. */
export interface RemovalList {
  readonly removals: readonly string[];
}

/** Where a removal list is: its second, the instance that wrote it, its chunk. */
export interface RemovalListRef {
  readonly slot: number;
  readonly instance: string;
  readonly chunk: number;
}

/** Anything stored in the calls bucket. */
export type CallsValue = CallEntry | CallIndex | TimerMark | RemovalList;

export function isCallsValue(value: unknown): value is CallsValue {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v['call'] === 'string' && v['v'] === undefined) return true;
  if (typeof v['at'] === 'number' && v['v'] === undefined) return true;
  if (Array.isArray(v['removals']) && v['v'] === undefined) return (v['removals'] as unknown[]).every((c) => typeof c === 'string');
  const d = v['dialog'] as Record<string, unknown> | undefined;
  const mf = v['maxForwards'];
  return (
    v['v'] === CALL_ENTRY_VERSION &&
    (mf === undefined || (typeof mf === 'number' && Number.isInteger(mf) && mf >= 0 && mf <= 255)) &&
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

/** The earliest armed timer of an entry (its removal included). */
export function earliestTimer(entry: Pick<CallEntry, 'timers' | 'updateDeadline' | 'removeAt'>): number | undefined {
  const due = markedDue(entry);
  return entry.removeAt !== undefined && (due === undefined || entry.removeAt < due) ? entry.removeAt : due;
}

/**
 * The earliest due time that needs a timer mark: the call's timers and update deadline, not its
 * removal. An ended call is removed by the local timer of the instance that ended it (as UAC
 * entries are); if that instance dies first, the bucket's max age removes it. That saves two
 * writes per call (moving the mark to the removal time, and deleting it with the call).
 */
export function markedDue(entry: Pick<CallEntry, 'timers' | 'updateDeadline'>): number | undefined {
  let min: number | undefined = entry.updateDeadline;
  for (const at of Object.values(entry.timers)) if (at !== undefined && (min === undefined || at < min)) min = at;
  return min;
}

export { removalTicket, type RemovalTicket } from './call-cache.js';

/** Timer marks are grouped per second of their due time. */
export const MARK_SLOT_MS = 1000;

export function markSlot(at: number): number {
  return Math.floor(at / MARK_SLOT_MS);
}

/** A timer mark found by a sweep. */
export interface DueMark {
  readonly call: string;
  /** Its second (`markSlot`). */
  readonly slot: number;
}

export interface CallStore {
  /** Reads the entry from KV (and remembers it). */
  get(call: string): Promise<Stored<CallEntry> | undefined>;
  /** What this instance last read or wrote for the call; may be stale: only a base for `update`. */
  cached(call: string): Stored<CallEntry> | undefined;
  /** Creates the call; undefined when the id is taken. */
  create(entry: CallEntry): Promise<number | undefined>;
  /** CAS write; undefined when another writer won (the remembered entry is dropped). */
  update(entry: CallEntry, revision: number): Promise<number | undefined>;
  /** What this instance knows of an ended call it read or wrote (enough to remove it). */
  removalTicket(call: string): RemovalTicket | undefined;
  /** Removes an ended call: the entry (only while at the ticket's revision), its dialog index and its timer mark. False when the entry changed. */
  remove(ticket: RemovalTicket): Promise<boolean>;
  /** Claims the dialog index for a new call; false when a call already holds it. */
  claimIndex(callId: string, peerTag: string, call: string): Promise<boolean>;
  /** The call of a request from the peer, by Call-ID and the peer's tag (remembered unless `fresh`). */
  findByDialog(callId: string, peerTag: string, fresh?: boolean): Promise<string | undefined>;
  /** Moves the timer mark of a call from the second of `from` to that of `to` (undefined: none). */
  moveMark(call: string, from: number | undefined, to: number | undefined): Promise<void>;
  /** Drops one mark (its call is gone). */
  dropMark(mark: DueMark): Promise<void>;
  /** Marks due by `now` (at most `limit`). */
  dueMarks(now: number, limit: number): Promise<DueMark[]>;
  /** Calls stored (up to `limit`), for the active-dialogs gauge. */
  countCalls(limit: number): Promise<number>;
  /** Writes (replaces) one chunk of an instance's list of ended calls to remove. */
  putRemovals(ref: RemovalListRef, calls: readonly string[]): Promise<void>;
  /** The calls of one list chunk (undefined: gone). */
  readRemovals(ref: RemovalListRef): Promise<readonly string[] | undefined>;
  dropRemovals(ref: RemovalListRef): Promise<void>;
  /** Removal lists of the seconds up to `slot` (at most `limit`), every instance's. */
  removalLists(slot: number, limit: number): Promise<RemovalListRef[]>;
}

export interface KvCallStoreOptions {
  /** Entries of calls that are up remembered (default 10 000; a few KiB each). */
  readonly cacheSize?: number;
  /** Ended calls (removal tickets) and dialog-index lookups remembered (default 100 000; small). */
  readonly ticketCacheSize?: number;
  /** Every this often a sweep lists every mark instead of the seconds passed since the last one (default 30 s). */
  readonly fullScanMs?: number;
}

/** Seconds listed one by one in a sweep; more than this and the sweep lists every mark. */
const MAX_SLOTS_PER_SWEEP = 16;

export class KvCallStore implements CallStore {
  readonly #r: KvRecords<CallsValue>;
  readonly #cache: CallCache;
  readonly #fullScanMs: number;
  /** First second not listed yet; undefined: list every mark next time. */
  #nextSlot: number | undefined;
  #lastFullScan = Number.NEGATIVE_INFINITY;

  constructor(records: KvRecords<CallsValue>, o: KvCallStoreOptions = {}) {
    this.#r = records;
    const small = o.ticketCacheSize ?? 100_000;
    this.#cache = new CallCache({ entries: o.cacheSize ?? 10_000, tickets: small, index: small });
    this.#fullScanMs = o.fullScanMs ?? 30_000;
  }

  static callKey(call: string): string {
    return `call.${encodeKvToken(call)}`;
  }

  static markKey(call: string, slot: number): string {
    return `tmr.${slot}.${encodeKvToken(call)}`;
  }

  async get(call: string): Promise<Stored<CallEntry> | undefined> {
    const e = await this.#r.get(KvCallStore.callKey(call));
    if (e === undefined || !isEntry(e.value)) {
      this.#cache.forget(call);
      return undefined;
    }
    const stored = { value: e.value, revision: e.revision };
    this.#cache.remember(call, stored);
    return stored;
  }

  cached(call: string): Stored<CallEntry> | undefined {
    return this.#cache.entry(call);
  }

  removalTicket(call: string): RemovalTicket | undefined {
    return this.#cache.ticket(call);
  }

  async create(entry: CallEntry): Promise<number | undefined> {
    const revision = await this.#r.create(KvCallStore.callKey(entry.dialog.call), entry);
    if (revision !== undefined) this.#cache.remember(entry.dialog.call, { value: entry, revision });
    return revision;
  }

  async update(entry: CallEntry, revision: number): Promise<number | undefined> {
    const call = entry.dialog.call;
    let next: number | undefined;
    try {
      next = await this.#r.update(KvCallStore.callKey(call), entry, revision);
    } catch (err) {
      this.#cache.forget(call);
      throw err;
    }
    if (next === undefined) this.#cache.forget(call);
    else this.#cache.remember(call, { value: entry, revision: next });
    return next;
  }

  async remove(t: RemovalTicket): Promise<boolean> {
    this.#cache.forget(t.call);
    if (!(await this.#r.delete(KvCallStore.callKey(t.call), t.revision))) {
      // Changed, or already gone (another instance removed it, or an earlier attempt of this
      // delete landed although its answer was lost): only then is the rest removed too.
      if ((await this.get(t.call)) !== undefined) return false;
    }
    this.#cache.index.delete(CallCache.indexKey(t.callId, t.remoteTag));
    // Index and mark of a call that is gone: in no particular order, so at once. A call we placed
    // has no index (its Call-ID names it, uac/call-id.ts).
    const markAt = t.markAt;
    await Promise.all([
      ...(callOfOutboundCallId(t.callId) === t.call ? [] : [this.#r.delete(kvKey('dlg', t.callId, t.remoteTag))]),
      ...(markAt === undefined ? [] : [this.#r.delete(KvCallStore.markKey(t.call, markSlot(markAt)))]),
    ]);
    return true;
  }

  async claimIndex(callId: string, peerTag: string, call: string): Promise<boolean> {
    const ok = (await this.#r.create(kvKey('dlg', callId, peerTag), { call })) !== undefined;
    // Taken: whoever holds it is looked up in KV, not in what this instance remembers.
    if (ok) this.#cache.index.set(CallCache.indexKey(callId, peerTag), call);
    else this.#cache.index.delete(CallCache.indexKey(callId, peerTag));
    return ok;
  }

  async findByDialog(callId: string, peerTag: string, fresh = false): Promise<string | undefined> {
    const k = CallCache.indexKey(callId, peerTag);
    if (!fresh) {
      const known = this.#cache.index.get(k);
      if (known !== undefined) return known;
    }
    const e = await this.#r.get(kvKey('dlg', callId, peerTag));
    const call = e === undefined ? undefined : (e.value as Partial<CallIndex>).call;
    if (typeof call !== 'string') {
      this.#cache.index.delete(k);
      return undefined;
    }
    this.#cache.index.set(k, call);
    return call;
  }

  async moveMark(call: string, from: number | undefined, to: number | undefined): Promise<void> {
    const a = from === undefined ? undefined : markSlot(from);
    const b = to === undefined ? undefined : markSlot(to);
    if (a === b) return;
    // The new mark first: a crash in between leaves an extra (early) mark, never none.
    if (b !== undefined && to !== undefined) await this.#r.put(KvCallStore.markKey(call, b), { at: to });
    if (a !== undefined) await this.#r.delete(KvCallStore.markKey(call, a));
  }

  async dropMark(mark: DueMark): Promise<void> {
    await this.#r.delete(KvCallStore.markKey(mark.call, mark.slot));
  }

  async dueMarks(now: number, limit: number): Promise<DueMark[]> {
    // Only seconds that are over: a mark of the current second may not be due yet.
    const top = markSlot(now) - 1;
    const next = this.#nextSlot;
    const out: DueMark[] = [];
    if (next === undefined || now - this.#lastFullScan >= this.#fullScanMs || top - next >= MAX_SLOTS_PER_SWEEP) {
      for (const key of await this.#r.keys('tmr.>', limit)) {
        const m = parseMarkKey(key);
        if (m !== undefined && m.slot <= top) out.push(m);
      }
      this.#lastFullScan = now;
    } else {
      for (let slot = next; slot <= top && out.length < limit; slot++) {
        for (const key of await this.#r.keys(`tmr.${slot}.*`, limit - out.length)) {
          const m = parseMarkKey(key);
          if (m !== undefined) out.push(m);
        }
      }
    }
    this.#nextSlot = top + 1;
    return out;
  }

  async countCalls(limit: number): Promise<number> {
    return (await this.#r.keys('call.*', limit)).length;
  }

  static removalsKey(ref: RemovalListRef): string {
    return `rmq.${ref.slot}.${encodeKvToken(ref.instance)}.${ref.chunk}`;
  }

  async putRemovals(ref: RemovalListRef, calls: readonly string[]): Promise<void> {
    await this.#r.put(KvCallStore.removalsKey(ref), { removals: calls });
  }

  async readRemovals(ref: RemovalListRef): Promise<readonly string[] | undefined> {
    const e = await this.#r.get(KvCallStore.removalsKey(ref));
    const list = (e?.value as Partial<RemovalList> | undefined)?.removals;
    return Array.isArray(list) ? list : undefined;
  }

  async dropRemovals(ref: RemovalListRef): Promise<void> {
    await this.#r.delete(KvCallStore.removalsKey(ref));
  }

  async removalLists(slot: number, limit: number): Promise<RemovalListRef[]> {
    const out: RemovalListRef[] = [];
    for (const key of await this.#r.keys('rmq.>', limit)) {
      const ref = parseRemovalsKey(key);
      if (ref !== undefined && ref.slot <= slot) out.push(ref);
    }
    return out;
  }
}

function parseRemovalsKey(key: string): RemovalListRef | undefined {
  const parts = key.split('.');
  if (parts.length !== 4 || parts[0] !== 'rmq' || !/^\d+$/.test(parts[1] ?? '') || !/^\d+$/.test(parts[3] ?? '')) return undefined;
  try {
    return { slot: Number(parts[1]), instance: decodeKvToken(parts[2] ?? ''), chunk: Number(parts[3]) };
  } catch {
    return undefined; // not one of ours
  }
}

function parseMarkKey(key: string): DueMark | undefined {
  const parts = key.split('.');
  if (parts.length !== 3 || parts[0] !== 'tmr' || !/^\d+$/.test(parts[1] ?? '')) return undefined;
  try {
    return { slot: Number(parts[1]), call: decodeKvToken(parts[2] ?? '') };
  } catch {
    return undefined; // not one of ours
  }
}

interface MemoryCallData {
  readonly calls: Map<string, Stored<CallEntry>>;
  readonly index: Map<string, string>;
  readonly marks: Map<string, number>;
  /** Removal lists by `KvCallStore.removalsKey`. */
  readonly removals: Map<string, { readonly ref: RemovalListRef; readonly calls: readonly string[] }>;
  readonly max: number;
  rev: number;
}

/** In-memory CallStore for unit tests and single-process use (bounded). */
export class MemoryCallStore implements CallStore {
  readonly #d: MemoryCallData;
  readonly #cache: CallCache;

  constructor(maxCalls = 10_000, shared?: MemoryCallData) {
    this.#d = shared ?? { calls: new Map(), index: new Map(), marks: new Map(), removals: new Map(), max: maxCalls, rev: 0 };
    this.#cache = new CallCache({ entries: maxCalls, tickets: maxCalls, index: maxCalls });
  }

  /** Another instance's view of the same calls: shared data, its own remembered entries (tests). */
  otherInstance(): MemoryCallStore {
    return new MemoryCallStore(this.#d.max, this.#d);
  }

  /** Marks stored: call → due time (tests). */
  get marks(): ReadonlyMap<string, number> {
    return this.#d.marks;
  }

  /** Calls stored, ended ones included (tests). */
  get size(): number {
    return this.#d.calls.size;
  }

  async get(call: string): Promise<Stored<CallEntry> | undefined> {
    const e = this.#d.calls.get(call);
    if (e === undefined) {
      this.#cache.forget(call);
      return undefined;
    }
    this.#cache.remember(call, { value: structuredClone(e.value), revision: e.revision });
    return { value: structuredClone(e.value), revision: e.revision };
  }

  cached(call: string): Stored<CallEntry> | undefined {
    const e = this.#cache.entry(call);
    return e === undefined ? undefined : { value: structuredClone(e.value), revision: e.revision };
  }

  removalTicket(call: string): RemovalTicket | undefined {
    return this.#cache.ticket(call);
  }

  async create(entry: CallEntry): Promise<number | undefined> {
    if (this.#d.calls.has(entry.dialog.call)) return undefined;
    if (this.#d.calls.size >= this.#d.max) throw new RangeError(`call store full (${this.#d.max})`);
    const revision = ++this.#d.rev;
    this.#d.calls.set(entry.dialog.call, { value: structuredClone(entry), revision });
    this.#cache.remember(entry.dialog.call, { value: structuredClone(entry), revision });
    return revision;
  }

  async update(entry: CallEntry, revision: number): Promise<number | undefined> {
    const call = entry.dialog.call;
    const cur = this.#d.calls.get(call);
    if (cur === undefined || cur.revision !== revision) {
      this.#cache.forget(call);
      return undefined;
    }
    const next = ++this.#d.rev;
    this.#d.calls.set(call, { value: structuredClone(entry), revision: next });
    this.#cache.remember(call, { value: structuredClone(entry), revision: next });
    return next;
  }

  async remove(t: RemovalTicket): Promise<boolean> {
    this.#cache.forget(t.call);
    const cur = this.#d.calls.get(t.call);
    if (cur !== undefined && cur.revision !== t.revision) return false;
    this.#d.calls.delete(t.call);
    this.#d.index.delete(CallCache.indexKey(t.callId, t.remoteTag));
    this.#cache.index.delete(CallCache.indexKey(t.callId, t.remoteTag));
    this.#d.marks.delete(t.call);
    return true;
  }

  async claimIndex(callId: string, peerTag: string, call: string): Promise<boolean> {
    const k = CallCache.indexKey(callId, peerTag);
    if (this.#d.index.has(k)) {
      this.#cache.index.delete(k);
      return false;
    }
    this.#d.index.set(k, call);
    this.#cache.index.set(k, call);
    return true;
  }

  async findByDialog(callId: string, peerTag: string, fresh = false): Promise<string | undefined> {
    const k = CallCache.indexKey(callId, peerTag);
    if (!fresh) {
      const known = this.#cache.index.get(k);
      if (known !== undefined) return known;
    }
    const call = this.#d.index.get(k);
    if (call === undefined) this.#cache.index.delete(k);
    else this.#cache.index.set(k, call);
    return call;
  }

  async moveMark(call: string, _from: number | undefined, to: number | undefined): Promise<void> {
    if (to === undefined) this.#d.marks.delete(call);
    else this.#d.marks.set(call, to);
  }

  async dropMark(mark: DueMark): Promise<void> {
    if (this.#d.marks.has(mark.call) && markSlot(this.#d.marks.get(mark.call) ?? 0) === mark.slot) this.#d.marks.delete(mark.call);
  }

  async dueMarks(now: number, limit: number): Promise<DueMark[]> {
    const out: DueMark[] = [];
    for (const [call, at] of this.#d.marks) {
      if (out.length >= limit) break;
      if (at <= now) out.push({ call, slot: markSlot(at) });
    }
    return out;
  }

  async countCalls(limit: number): Promise<number> {
    return Math.min(limit, this.#d.calls.size);
  }

  /** Removal lists stored (tests). */
  get removalListCount(): number {
    return this.#d.removals.size;
  }

  async putRemovals(ref: RemovalListRef, calls: readonly string[]): Promise<void> {
    this.#d.removals.set(KvCallStore.removalsKey(ref), { ref, calls: [...calls] });
  }

  async readRemovals(ref: RemovalListRef): Promise<readonly string[] | undefined> {
    return this.#d.removals.get(KvCallStore.removalsKey(ref))?.calls;
  }

  async dropRemovals(ref: RemovalListRef): Promise<void> {
    this.#d.removals.delete(KvCallStore.removalsKey(ref));
  }

  async removalLists(slot: number, limit: number): Promise<RemovalListRef[]> {
    return [...this.#d.removals.values()].map((l) => l.ref).filter((r) => r.slot <= slot).slice(0, limit);
  }
}
