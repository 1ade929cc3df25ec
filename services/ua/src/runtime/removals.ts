/**
 * Removal of ended calls, safe against the death of the instance that ended them, at a cost that
 * does not grow with the call rate.
 *
 * An ended call stays in KV for a grace period (64·T1), then the local timer of the instance that
 * ended it removes the entry and its dialog index. A timer mark per call would let any instance
 * do it, at two writes per call (the mark, then its deletion). Instead each instance keeps, per
 * second of removal time, the list of calls it ended (`note`), and writes the lists that grew since
 * the last flush once a second (`rmq.<second>.<instance>.<n>`, chunks of CHUNK calls). When every
 * call of a second is removed here (`done`), its list is deleted. A list still there ORPHAN_AFTER_MS
 * after its second belongs to an instance that died (or could not remove its calls): any instance's
 * sweep then removes its calls (each one only if it ended and its time passed) and the list.
 *
 * What is lost when an instance dies: the calls it ended in the second before (not flushed yet);
 * they stay until the bucket's max age (SIPNATS_CALL_TTL) removes them.
 */
import { markSlot, type CallStore, type RemovalListRef } from '../store/call-store.js';

/** Calls per list chunk (a call id is ~30 bytes: well under the bucket's 64 KiB value limit). */
export const REMOVAL_CHUNK = 1000;
/** A list this long after its second is an orphan: any instance removes its calls. */
export const ORPHAN_AFTER_MS = 60_000;

interface SlotState {
  /** Calls noted for this second, in order; the first `written` are in KV. */
  readonly calls: string[];
  written: number;
  /** Noted and not removed yet. */
  readonly pending: Set<string>;
}

export interface RemovalBookOptions {
  readonly instance: string;
  readonly store: Pick<CallStore, 'putRemovals' | 'dropRemovals'>;
  /** Calls tracked at most (beyond: left to the bucket's max age, and counted). */
  readonly maxCalls: number;
  readonly onUntracked?: () => void;
}

export class RemovalBook {
  readonly #o: RemovalBookOptions;
  readonly #slots = new Map<number, SlotState>();
  /** Call → its second, while pending. */
  readonly #where = new Map<string, number>();
  #flushing = false;

  constructor(o: RemovalBookOptions) {
    this.#o = o;
  }

  /** Calls noted and not removed yet. */
  get pending(): number {
    return this.#where.size;
  }

  /** This instance wrote the end of `call`: it is to be removed at `removeAt`. */
  note(call: string, removeAt: number): void {
    if (this.#where.has(call)) return;
    if (this.#where.size >= this.#o.maxCalls) {
      this.#o.onUntracked?.();
      return;
    }
    const slot = markSlot(removeAt);
    let s = this.#slots.get(slot);
    if (s === undefined) {
      s = { calls: [], written: 0, pending: new Set() };
      this.#slots.set(slot, s);
    }
    s.calls.push(call);
    s.pending.add(call);
    this.#where.set(call, slot);
  }

  /** `call` was removed (or found gone). */
  done(call: string): void {
    const slot = this.#where.get(call);
    if (slot === undefined) return;
    this.#where.delete(call);
    this.#slots.get(slot)?.pending.delete(call);
  }

  /** Whether this instance still tracks its list of `slot` (an orphan sweep leaves it alone). */
  tracks(slot: number): boolean {
    return this.#slots.has(slot);
  }

  /**
   * Writes the chunks that grew since the last flush; deletes the lists of seconds that passed
   * whose calls were all removed; gives up (to the orphan sweep) lists that stayed too long.
   */
  async flush(now: number): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      const current = markSlot(now);
      for (const [slot, s] of [...this.#slots].sort((a, b) => a[0] - b[0])) {
        if (s.written < s.calls.length) {
          const first = Math.floor(s.written / REMOVAL_CHUNK);
          const last = Math.floor((s.calls.length - 1) / REMOVAL_CHUNK);
          for (let chunk = first; chunk <= last; chunk++) {
            await this.#o.store.putRemovals(this.#ref(slot, chunk), s.calls.slice(chunk * REMOVAL_CHUNK, (chunk + 1) * REMOVAL_CHUNK));
          }
          s.written = s.calls.length;
        }
        if (slot >= current) continue;
        if (s.pending.size === 0) {
          for (let chunk = 0; chunk * REMOVAL_CHUNK < s.written; chunk++) await this.#o.store.dropRemovals(this.#ref(slot, chunk));
          this.#slots.delete(slot);
        } else if ((current - slot) * 1000 > ORPHAN_AFTER_MS) {
          // Not removed here in time (KV outage, local timers full): the orphan sweep takes over.
          for (const call of s.pending) this.#where.delete(call);
          this.#slots.delete(slot);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #ref(slot: number, chunk: number): RemovalListRef {
    return { slot, instance: this.#o.instance, chunk };
  }

  clear(): void {
    this.#slots.clear();
    this.#where.clear();
  }
}
