/**
 * One-shot deadlines of a single duration for many items: a clock timer per item (per request,
 * nearly always cancelled a few milliseconds later) replaced by one clock timer for all of them.
 * With one duration, items fall due in the order they were added, so the queue is a ring in that
 * order and its timer is armed for the earliest item still waiting. Cancelling forgets the item
 * at once (the ring keeps no reference to it); cancelled items at the head are dropped, so in the
 * usual first-in first-out traffic the ring only spans the items in flight. Pure: time comes from
 * the injected clock.
 */
import type { Clock, TimerHandle } from './types.js';

/** Smallest ring (items); it doubles when full. */
const MIN_SLOTS = 64;

export class DeadlineQueue<T> {
  readonly #clock: Clock;
  readonly #durationMs: number;
  readonly #expire: (item: T) => void;
  /** Tickets #head..#tail-1 are in the ring at ticket & #mask; undefined: cancelled or expired. */
  #items: Array<T | undefined> = new Array<T | undefined>(MIN_SLOTS);
  #due = new Float64Array(MIN_SLOTS);
  #mask = MIN_SLOTS - 1;
  #head = 0;
  #tail = 0;
  #live = 0;
  #timer: TimerHandle | undefined;

  /** `expire(item)` runs `durationMs` after `add(item)` unless the item was cancelled. */
  constructor(clock: Clock, durationMs: number, expire: (item: T) => void) {
    if (!Number.isFinite(durationMs) || durationMs < 0) throw new RangeError('durationMs must be a non-negative number');
    this.#clock = clock;
    this.#durationMs = durationMs;
    this.#expire = expire;
  }

  /** Items waiting for their deadline. */
  get size(): number {
    return this.#live;
  }

  /** Adds `item`, due `durationMs` from now; the ticket cancels it. */
  add(item: T): number {
    if (this.#tail - this.#head > this.#mask) this.#grow();
    const ticket = this.#tail++;
    const slot = ticket & this.#mask;
    const due = this.#clock.now() + this.#durationMs;
    this.#items[slot] = item;
    this.#due[slot] = due;
    this.#live++;
    if (this.#timer === undefined) this.#arm(due);
    return ticket;
  }

  /** Forgets the item of `ticket` (nothing happens for one that expired or was cancelled). */
  cancel(ticket: number): void {
    if (ticket < this.#head || ticket >= this.#tail) return;
    const slot = ticket & this.#mask;
    if (this.#items[slot] === undefined) return;
    this.#items[slot] = undefined;
    this.#live--;
    while (this.#head < this.#tail && this.#items[this.#head & this.#mask] === undefined) this.#head++;
    // The armed timer stays: it finds nothing due when it fires and is armed again only for a
    // waiting item (no clock work per cancel). With nothing left at all it is stopped, so that
    // an idle queue holds no timer.
    if (this.#live === 0) this.#stop();
  }

  /** Forgets every item and stops the timer. */
  clear(): void {
    this.#stop();
    this.#items = new Array<T | undefined>(MIN_SLOTS);
    this.#due = new Float64Array(MIN_SLOTS);
    this.#mask = MIN_SLOTS - 1;
    this.#head = 0;
    this.#tail = 0;
    this.#live = 0;
  }

  #stop(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #arm(at: number): void {
    this.#timer = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), this.#fire);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = this.#clock.now();
    while (this.#head < this.#tail) {
      const slot = this.#head & this.#mask;
      const item = this.#items[slot];
      if (item === undefined) {
        this.#head++;
        continue;
      }
      if ((this.#due[slot] as number) > now) break;
      this.#items[slot] = undefined;
      this.#head++;
      this.#live--;
      this.#expire(item); // may add or cancel: the loop reads the ring afresh
    }
    if (this.#timer === undefined && this.#head < this.#tail) this.#arm(this.#due[this.#head & this.#mask] as number);
  };

  #grow(): void {
    const size = (this.#mask + 1) * 2;
    const items = new Array<T | undefined>(size);
    const due = new Float64Array(size);
    const mask = size - 1;
    for (let t = this.#head; t < this.#tail; t++) {
      items[t & mask] = this.#items[t & this.#mask];
      due[t & mask] = this.#due[t & this.#mask] as number;
    }
    this.#items = items;
    this.#due = due;
    this.#mask = mask;
  }
}
