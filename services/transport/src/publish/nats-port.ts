/**
 * The slice of a NATS connection the transport uses. main.ts adapts the real connection;
 * unit tests pass fakes. Publishing is synchronous (nats.js buffers and flushes on its own), so
 * the socket loop never awaits NATS.
 */
import type { RawHeaders } from './raw-headers.js';

export interface PortHeaders {
  get(name: string): string;
  set(name: string, value: string): void;
}

export interface PortMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly reply: string | undefined;
}

export interface PortSubscription {
  unsubscribe(): void;
}

export interface NatsPort {
  /** True while the connection is up (not reconnecting, not closed). */
  readonly connected: boolean;
  /** `headers`: those of a raw copy (raw-headers.ts), the only messages with NATS headers. */
  publish(subject: string, data: Uint8Array, headers?: RawHeaders, reply?: string): void;
  subscribe(subject: string, queue: string | undefined, onMessage: (msg: PortMessage) => void): PortSubscription;
}
