/**
 * Forwards raw messages to a HEP collector: `offer` (called from the NATS callback) only maps the
 * record and queues it in a BoundedQueue, never waiting; the queue is drained into the datagram
 * sender with at most `maxInFlight` sends outstanding. Full queue → the message is dropped and
 * counted. Counters say what happened to every message offered.
 */
import type { RawRecord } from '../tail/raw-record.js';
import { BoundedQueue } from './bounded-queue.js';
import { HepEncodeError, encodeHep3 } from './hep-encode.js';
import type { HepPacket } from './hep-encode.js';
import { recordToHep } from './hep-record.js';
import type { HepIdentity } from './hep-record.js';

/** Sends one datagram; `done` is called once, with the error if the send failed. */
export interface DatagramSender {
  send(packet: Uint8Array, done: (err: Error | null) => void): void;
}

export interface ForwarderStats {
  /** Messages offered. */
  readonly received: number;
  /** Datagrams handed to the socket successfully. */
  readonly forwarded: number;
  /** Messages dropped because the queue was full. */
  readonly dropped: number;
  /** Messages that cannot be described in HEP (no or bad address metadata, too large). */
  readonly invalid: number;
  /** Datagrams the socket refused (collector unreachable...). */
  readonly sendErrors: number;
  /** Messages waiting in the queue or being sent. */
  readonly pending: number;
}

export interface HepForwarderOptions {
  readonly identity: HepIdentity;
  readonly queueSize: number;
  readonly sender: DatagramSender;
  readonly maxInFlight?: number;
  /** Called for each failed send (the caller rate-limits what it reports). */
  readonly onSendError?: (err: Error) => void;
}

export class HepForwarder {
  readonly #identity: HepIdentity;
  readonly #queue: BoundedQueue<HepPacket>;
  readonly #sender: DatagramSender;
  readonly #maxInFlight: number;
  readonly #onSendError: ((err: Error) => void) | undefined;
  readonly #idle = new Set<() => void>();
  #inFlight = 0;
  #received = 0;
  #forwarded = 0;
  #invalid = 0;
  #sendErrors = 0;

  constructor(o: HepForwarderOptions) {
    this.#identity = o.identity;
    this.#queue = new BoundedQueue<HepPacket>(o.queueSize);
    this.#sender = o.sender;
    this.#maxInFlight = Math.max(1, o.maxInFlight ?? 32);
    this.#onSendError = o.onSendError;
  }

  /** Queues a record for sending; never blocks, never throws. */
  offer(r: RawRecord): void {
    this.#received++;
    const packet = recordToHep(r, this.#identity);
    if (packet === 'no-address') {
      this.#invalid++;
      return;
    }
    if (this.#queue.push(packet)) this.#pump();
  }

  stats(): ForwarderStats {
    return {
      received: this.#received,
      forwarded: this.#forwarded,
      dropped: this.#queue.dropped,
      invalid: this.#invalid,
      sendErrors: this.#sendErrors,
      pending: this.#queue.size + this.#inFlight,
    };
  }

  /** Resolves when nothing is queued or in flight, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<void> {
    if (this.#queue.size === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#idle.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#idle.add(done);
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight) {
      const packet = this.#queue.shift();
      if (packet === undefined) break;
      let bytes: Uint8Array;
      try {
        bytes = encodeHep3(packet);
      } catch (err) {
        if (!(err instanceof HepEncodeError)) throw err;
        this.#invalid++;
        continue;
      }
      this.#inFlight++;
      let settled = false;
      const done = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        this.#inFlight--;
        if (err === null) this.#forwarded++;
        else {
          this.#sendErrors++;
          this.#onSendError?.(err);
        }
        queueMicrotask(() => this.#pump());
      };
      try {
        this.#sender.send(bytes, done);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (this.#queue.size === 0 && this.#inFlight === 0) for (const done of [...this.#idle]) done();
  }
}
