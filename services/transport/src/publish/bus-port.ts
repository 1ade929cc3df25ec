/**
 * NatsPort over a @sipnats/bus connection that may not exist yet: until NATS answers for the first
 * time the transport runs (and sheds with 503) with `connected` false; subscriptions made before
 * are established once the bus is attached.
 */
import type { Bus, Subscription } from '@sipnats/bus';
import type { Logger } from '@sipnats/logging';
import type { NatsPort, PortMessage, PortSubscription } from './nats-port.js';
import type { RawHeaders } from './raw-headers.js';

interface Wanted {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly onMessage: (msg: PortMessage) => void;
  sub: Subscription | undefined;
  cancelled: boolean;
}

export class BusPort implements NatsPort {
  #bus: Bus | undefined;
  readonly #wanted: Wanted[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get bus(): Bus | undefined {
    return this.#bus;
  }

  get connected(): boolean {
    return this.#bus !== undefined && this.#bus.connected && !this.#bus.closing;
  }

  attach(bus: Bus): void {
    this.#bus = bus;
    for (const w of this.#wanted) if (!w.cancelled) this.#open(w, bus);
  }

  publish(subject: string, data: Uint8Array, headers?: RawHeaders, reply?: string): void {
    const bus = this.#bus;
    if (bus === undefined) throw new Error('NATS not connected');
    if (headers === undefined && reply === undefined) {
      bus.nc.publish(subject, data);
      return;
    }
    // A new options object each time: nats.js writes into it.
    const opts: { headers?: RawHeaders; reply?: string } = {};
    if (headers !== undefined) opts.headers = headers;
    if (reply !== undefined) opts.reply = reply;
    bus.nc.publish(subject, data, opts);
  }

  subscribe(subject: string, queue: string | undefined, onMessage: (msg: PortMessage) => void): PortSubscription {
    const w: Wanted = { subject, queue, onMessage, sub: undefined, cancelled: false };
    this.#wanted.push(w);
    if (this.#bus !== undefined) this.#open(w, this.#bus);
    return {
      unsubscribe: () => {
        w.cancelled = true;
        w.sub?.unsubscribe();
      },
    };
  }

  #open(w: Wanted, bus: Bus): void {
    const opts: { queue?: string; callback: (err: Error | null, msg: { subject: string; data: Uint8Array; reply?: string }) => void } = {
      callback: (err, msg) => {
        if (err !== null) {
          this.#log.error({ err, subject: w.subject }, 'subscription error');
          return;
        }
        w.onMessage({ subject: msg.subject, data: msg.data, reply: msg.reply === undefined || msg.reply === '' ? undefined : msg.reply });
      },
    };
    if (w.queue !== undefined) opts.queue = w.queue;
    w.sub = bus.nc.subscribe(w.subject, opts);
  }
}
