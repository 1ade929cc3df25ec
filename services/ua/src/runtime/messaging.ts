/**
 * The slice of NATS the ua uses, as an interface so build() can be tested with fakes: publish
 * (optionally with a reply subject), subscribe (optionally in a queue group), and inbox names.
 */
import { createInbox } from '@nats-io/nats-core';
import type { NatsConnection, Publish } from '@sipnats/bus';

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

/**
 * `publisher`: where publishes go (a HeldPublisher shared with the KV request mux: a turn's
 * publishes in one socket write, see @sipnats/bus held-publisher.ts); default the connection.
 */
export function natsMessaging(nc: NatsConnection, isConnected: () => boolean, publisher: Publish & { flush?(): void } = nc): Messaging {
  return {
    publish(subject, data, reply) {
      publisher.publish(subject, data, reply === undefined ? undefined : { reply });
    },
    flush() {
      publisher.flush?.();
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

