/**
 * Publishing a request again while no ua answered it. Core NATS delivers at most once: an envelope
 * published to a NATS node that dies, or delivered to a ua instance that dies, is gone, and the
 * server transaction absorbs every retransmission from the peer, so nobody would ever answer. While
 * a server transaction has no response from the TU (for INVITE: nothing beyond our own 100 Trying),
 * its envelope is published again, with the same `txn` and `attempt` = 2, 3, ..., after each
 * delay of `delaysMs` (default 1, 2, 4, 8, 16 s: at 1, 3, 7, 15 and 31 s), and never after `maxAgeMs`
 * (Timer F/B equivalent, 64*T1). It stops at the first TU response (`answered`), when the
 * transaction ends (`ended`), or when `stillWaiting` says the transaction no longer waits.
 * Reliable and unreliable flows alike: the loss is between the transport and the ua.
 *
 * Time comes from the injected clock; the table is bounded (`maxTracked`, the server transaction
 * limit): beyond it a request is published once, as before. The first wait, the one nearly every
 * request is tracked for and that ends a few milliseconds later with the ua's response, is one
 * queue with one clock timer (DeadlineQueue); later waits (a ua that does not answer) have a
 * clock timer each.
 */
import { DeadlineQueue, type Clock, type TimerHandle } from '../txn/index.js';

export const DEFAULT_REPUBLISH_DELAYS_MS: readonly number[] = Object.freeze([1000, 2000, 4000, 8000, 16000]);

export interface RepublisherOptions {
  readonly clock: Clock;
  /** Waits between two publishes of one envelope. */
  readonly delaysMs?: readonly number[];
  /** No publish later than this after the first one (64*T1). */
  readonly maxAgeMs: number;
  /** Most transactions tracked at once. */
  readonly maxTracked: number;
  /** False when the server transaction is gone or has a response (checked before each publish). */
  stillWaiting(txn: string): boolean;
  /**
   * Offers the envelope (JSON, as first published) again with `attempt` set; false when it was
   * refused (NATS down, queue full).
   */
  publish(subject: string, envelope: Uint8Array, attempt: number): boolean;
  /** One envelope published again (`refused`: the queue did not take it; a later try may). */
  onRepublish?(method: string, attempt: number, refused: boolean): void;
}

interface Tracked {
  readonly txn: string;
  readonly subject: string;
  readonly method: string;
  /** The envelope's JSON as first published. */
  readonly envelope: Uint8Array;
  readonly firstAt: number;
  /** Publishes so far (1 = only the original). */
  attempts: number;
  /** Ticket in the first-wait queue while attempts is 1. */
  ticket: number;
  /** Clock timer of a later wait. */
  timer: TimerHandle | undefined;
}

export class Republisher {
  readonly #o: RepublisherOptions;
  readonly #delays: readonly number[];
  readonly #tracked = new Map<string, Tracked>();
  /** The first wait (delays[0]) of every tracked request; undefined when delays[0] exceeds maxAgeMs. */
  readonly #firstWait: DeadlineQueue<Tracked> | undefined;
  #closed = false;

  constructor(o: RepublisherOptions) {
    const delays = o.delaysMs ?? DEFAULT_REPUBLISH_DELAYS_MS;
    if (delays.some((d) => !Number.isFinite(d) || d <= 0)) throw new RangeError('republish delays must be positive numbers of milliseconds');
    if (!Number.isInteger(o.maxTracked) || o.maxTracked < 0) throw new RangeError('maxTracked must be a non-negative integer');
    this.#o = o;
    this.#delays = delays;
    const first = delays[0];
    this.#firstWait = first === undefined || first > o.maxAgeMs ? undefined : new DeadlineQueue<Tracked>(o.clock, first, (e) => this.#fire(e));
  }

  /** Transactions waiting for their next publish. */
  get size(): number {
    return this.#tracked.size;
  }

  /** The envelope (JSON) of server transaction `txn`, a `method` request, was published on `subject` for the first time. */
  track(txn: string, subject: string, method: string, envelope: Uint8Array): void {
    const firstWait = this.#firstWait;
    if (firstWait === undefined || this.#closed || this.#tracked.has(txn) || this.#tracked.size >= this.#o.maxTracked) return;
    const entry: Tracked = { txn, subject, method, envelope, firstAt: this.#o.clock.now(), attempts: 1, ticket: -1, timer: undefined };
    entry.ticket = firstWait.add(entry);
    this.#tracked.set(txn, entry);
  }

  /** The TU sent a response on `txn` (any status): it has the request. */
  answered(txn: string): void {
    this.#stop(txn);
  }

  /** The server transaction ended. */
  ended(txn: string): void {
    this.#stop(txn);
  }

  close(): void {
    this.#closed = true;
    this.#firstWait?.clear();
    for (const e of this.#tracked.values()) if (e.timer !== undefined) this.#o.clock.clearTimer(e.timer);
    this.#tracked.clear();
  }

  #stop(txn: string): void {
    const e = this.#tracked.get(txn);
    if (e === undefined) return;
    if (e.timer !== undefined) this.#o.clock.clearTimer(e.timer);
    else this.#firstWait?.cancel(e.ticket);
    this.#tracked.delete(txn);
  }

  #fire(e: Tracked): void {
    const txn = e.txn;
    e.timer = undefined;
    if (this.#tracked.get(txn) !== e) return;
    if (!this.#o.stillWaiting(txn)) {
      this.#tracked.delete(txn);
      return;
    }
    e.attempts += 1;
    const refused = !this.#o.publish(e.subject, e.envelope, e.attempts);
    this.#o.onRepublish?.(e.method, e.attempts, refused);
    const next = this.#delays[e.attempts - 1];
    const elapsed = this.#o.clock.now() - e.firstAt;
    if (next === undefined || elapsed + next > this.#o.maxAgeMs) {
      this.#tracked.delete(txn);
      return;
    }
    e.timer = this.#o.clock.setTimer(next, () => this.#fire(e));
  }
}
