/**
 * The slice of NATS the ua uses, as an interface so build() can be tested with fakes: publish
 * (optionally with a reply subject), subscribe (optionally in a queue group), and inbox names.
 */
import { createInbox } from '@nats-io/nats-core';
import type { NatsConnection } from '@sipnats/bus';

export interface InMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly reply: string | undefined;
  /** The server's status 503 on a reply subject: the request was published where nobody listens. */
  readonly noResponders?: boolean;
}

export interface MessagingSubscription {
  unsubscribe(): void;
  /** Stops taking messages and resolves when the ones delivered were handed over. */
  drain(): Promise<void>;
}

export interface Messaging {
  publish(subject: string, data: Uint8Array, reply?: string): void;
  /** Hands what `publish` may still hold to the connection at once (before a drain). */
  flush?(): void;
  subscribe(subject: string, queue: string | undefined, handler: (msg: InMessage) => void): MessagingSubscription;
  /** A unique inbox prefix for this process (subscribe to `<prefix>.*`). */
  inboxPrefix(): string;
  /** True while the connection is up. */
  connected(): boolean;
}

/** Publishes held at most before they go out in one go (bounds the memory of a burst). */
const MAX_HELD = 1024;

/**
 * Publishes are held until the end of the event-loop turn and handed to the connection together:
 * nats.js writes to its socket once per microtask checkpoint in which something was published, and
 * the ua's handlers publish from many small promise continuations, so without this one call cost
 * several write syscalls (8 % of the ua's CPU at 250 bridged calls/s). The wait is at most the rest
 * of the current turn.
 */
class HeldPublishes {
  readonly #nc: NatsConnection;
  #held: { subject: string; data: Uint8Array; reply: string | undefined }[] = [];
  #scheduled = false;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  publish(subject: string, data: Uint8Array, reply: string | undefined): void {
    this.#held.push({ subject, data, reply });
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

  flush(): void {
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    for (const m of held) {
      try {
        this.#nc.publish(m.subject, m.data, m.reply === undefined ? undefined : { reply: m.reply });
      } catch {
        // Closed or draining connection: as a direct publish would have thrown, lost the same way
        // (every sender has its own timeout for what it waits on).
      }
    }
  }
}

export function natsMessaging(nc: NatsConnection, isConnected: () => boolean): Messaging {
  const held = new HeldPublishes(nc);
  return {
    publish(subject, data, reply) {
      held.publish(subject, data, reply);
    },
    flush() {
      held.flush();
    },
    subscribe(subject, queue, handler) {
      const sub = nc.subscribe(subject, {
        ...(queue === undefined ? {} : { queue }),
        callback: (err, msg) => {
          if (err !== null) return;
          const noResponders = msg.data.length === 0 && msg.headers?.code === 503;
          handler({ subject: msg.subject, data: msg.data, reply: msg.reply === '' ? undefined : msg.reply, ...(noResponders ? { noResponders } : {}) });
        },
      });
      return {
        unsubscribe: () => sub.unsubscribe(),
        drain: () => sub.drain(),
      };
    },
    inboxPrefix: () => createInbox(),
    connected: isConnected,
  };
}

