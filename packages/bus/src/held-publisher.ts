/**
 * Publishes held until the end of the event-loop turn, then handed to nats.js together.
 *
 * nats.js writes to its socket once per microtask checkpoint in which something was published. A
 * service whose handlers publish from many small promise continuations (the ua: KV requests, SIP to
 * send, events) pays one write syscall per continuation: the largest single cost in the ua's
 * profile (about 16% of its busy time at 150 bridged calls/s). Held here, the publishes of a turn
 * go out in one write. The wait is at most the rest of the current turn (`setImmediate`).
 */
import type { MsgHdrs, NatsConnection, PublishOptions } from '@nats-io/nats-core';

/** Publishes held at most before they go out at once (bounds the memory of a burst). */
const MAX_HELD = 1024;

export interface Publish {
  publish(subject: string, data: Uint8Array, options?: { reply?: string; headers?: MsgHdrs }): void;
}

interface Held {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly options: PublishOptions | undefined;
}

export class HeldPublisher implements Publish {
  readonly #nc: Pick<NatsConnection, 'publish'>;
  readonly #onError: (subject: string, err: unknown) => void;
  #held: Held[] = [];
  #scheduled = false;

  /** `onError`: a publish nats.js refused when it was handed over (a closed or draining connection). */
  constructor(nc: Pick<NatsConnection, 'publish'>, onError: (subject: string, err: unknown) => void = () => undefined) {
    this.#nc = nc;
    this.#onError = onError;
  }

  publish(subject: string, data: Uint8Array, options?: { reply?: string; headers?: MsgHdrs }): void {
    this.#held.push({ subject, data, options });
    if (this.#held.length >= MAX_HELD) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Hands everything held to nats.js now (before a drain, or in tests). */
  flush(): void {
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    for (const m of held) {
      try {
        this.#nc.publish(m.subject, m.data, m.options);
      } catch (err) {
        this.#onError(m.subject, err);
      }
    }
  }
}
