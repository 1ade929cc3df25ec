/**
 * Bounded publish queue between the socket loop and NATS. `offer` never blocks and never throws:
 * it queues the message or says no. Requests for the ua have priority: raw copies are refused once
 * half the queue is used, requests only when it is full or NATS is disconnected, and then the
 * caller answers 503. A pump publishes queued messages in batches on the event loop; while NATS is
 * disconnected nothing new is queued and what is queued waits for the reconnect.
 *
 * Each pump ends in one socket write to NATS. When traffic is light the pump runs on the next
 * turn of the event loop (no added latency); when pumps follow each other within COALESCE_MS the
 * next one waits for the rest of that window, so that under load many messages share one write
 * (the write syscall was the largest single cost of the transport at 8,000 requests/s).
 */
import { performance } from 'node:perf_hooks';
import type { NatsPort } from './nats-port.js';
import type { RawHeaders } from './raw-headers.js';

export const Priority = {
  /** A request or response envelope somebody waits for. */
  high: 'high',
  /** Raw copies for taps: best effort. */
  low: 'low',
} as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

export interface PublisherHooks {
  /** Milliseconds a message waited in the queue before it went to NATS. */
  onPublished(waitMs: number): void;
  /** A message was refused (queue full or disconnected) or failed to publish. */
  onDropped(priority: Priority, why: 'full' | 'disconnected' | 'error'): void;
}

interface Item {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: RawHeaders | undefined;
  readonly reply: string | undefined;
  readonly at: number;
  readonly priority: Priority;
}

const BATCH = 256;
/** Pumps closer together than this are merged (milliseconds). */
const COALESCE_MS = 1;

export class Publisher {
  readonly #port: NatsPort;
  readonly #bound: number;
  readonly #hooks: PublisherHooks;
  readonly #now: () => number;
  #queue: Item[] = [];
  #head = 0;
  #scheduled = false;
  #lastPump = -Infinity;
  #retry: NodeJS.Timeout | undefined;

  constructor(port: NatsPort, bound: number, hooks: PublisherHooks, now: () => number = Date.now) {
    this.#port = port;
    this.#bound = bound;
    this.#hooks = hooks;
    this.#now = now;
  }

  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** Whether a high-priority message would be taken now (used to decide 503 before work). */
  get accepting(): boolean {
    return this.#port.connected && this.size < this.#bound;
  }

  offer(subject: string, data: Uint8Array, priority: Priority, headers?: RawHeaders, reply?: string): boolean {
    if (!this.#port.connected) {
      this.#hooks.onDropped(priority, 'disconnected');
      return false;
    }
    const limit = priority === Priority.high ? this.#bound : Math.floor(this.#bound / 2);
    if (this.size >= limit) {
      this.#hooks.onDropped(priority, 'full');
      return false;
    }
    this.#queue.push({ subject, data, headers, reply, at: this.#now(), priority });
    this.#schedule();
    return true;
  }

  /** The scheduled pump, one function for the publisher's life (no closure per schedule). */
  readonly #run = (): void => {
    this.#scheduled = false;
    this.pump();
  };

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const wait = COALESCE_MS - (performance.now() - this.#lastPump);
    if (wait <= 0 || this.size >= BATCH) setImmediate(this.#run);
    else setTimeout(this.#run, wait);
  }

  /** Publishes up to one batch; reschedules itself while work remains. Public for tests. */
  pump(): void {
    this.#lastPump = performance.now();
    if (!this.#port.connected) {
      this.#retryLater();
      return;
    }
    const end = Math.min(this.#queue.length, this.#head + BATCH);
    const now = this.#now();
    while (this.#head < end) {
      const item = this.#queue[this.#head] as Item;
      this.#head++;
      try {
        this.#port.publish(item.subject, item.data, item.headers, item.reply);
        this.#hooks.onPublished(now - item.at);
      } catch {
        this.#hooks.onDropped(item.priority, 'error');
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else {
      if (this.#head > 4096) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#schedule();
    }
  }

  #retryLater(): void {
    if (this.#retry !== undefined || this.size === 0) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.pump();
    }, 100);
    this.#retry.unref();
  }

  /** Publishes everything queued now (if connected); used before draining NATS. */
  flush(): void {
    while (this.size > 0 && this.#port.connected) this.pump();
  }

  close(): void {
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
  }
}
