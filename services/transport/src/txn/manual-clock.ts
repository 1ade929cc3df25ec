/**
 * A clock that only moves when told to: for tests of the layer and of anything wired to it.
 * Timers due at the same instant fire in the order they were set.
 */
import type { Clock, TimerHandle } from './types.js';

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, Entry>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    this.#seq += 1;
    this.#timers.set(this.#seq, { at: this.#now + Math.max(0, ms), seq: this.#seq, fn });
    return this.#seq;
  }

  clearTimer(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Timers still pending. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Moves time to `target` (never backwards), firing due timers in order. */
  advanceTo(target: number): void {
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#timers.delete(next.seq);
      this.#now = next.at;
      next.fn();
    }
    if (target > this.#now) this.#now = target;
  }

  /** Fires timers until none is left (at most `limit` of them, to stop runaway loops). */
  runAll(limit = 10_000): void {
    for (let i = 0; i < limit; i += 1) {
      const next = this.#nextDue(Number.POSITIVE_INFINITY);
      if (next === undefined) return;
      this.#timers.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    throw new Error(`ManualClock.runAll: more than ${limit} timers fired`);
  }

  #nextDue(limit: number): Entry | undefined {
    let best: Entry | undefined;
    for (const entry of this.#timers.values()) {
      if (entry.at > limit) continue;
      if (best === undefined || entry.at < best.at || (entry.at === best.at && entry.seq < best.seq)) best = entry;
    }
    return best;
  }
}
