/**
 * RequestMux: request/reply over core NATS for hot paths (the ua's KV operations), at a fraction of
 * the client work of nats.js `request()`. nats.js gives every request its own timer, deferreds and,
 * when it completes (even successfully), a `RequestError` with a stack capture; here a request is
 * one entry in a Map and one promise:
 * - one wildcard inbox subscription (`<inbox>.*`, callback style) shared by every request, the
 *   reply subject `<inbox>.<token>` naming the waiting entry;
 * - timeouts by deadline: ONE periodic sweep (every `sweepMs`, unref'd, running only while
 *   requests wait) fails the entries whose deadline passed, so a request times out between its
 *   deadline and one sweep later;
 * - a reply that is a header-only `NATS/1.0 503` (the server's "no responders") fails the request
 *   at once;
 * - when the connection drops, the requests sent on it can no longer be answered: they fail at
 *   once ('disconnected'), and so do all requests when it closes ('closed'), so the caller retries
 *   or gives up instead of waiting out its deadline.
 * Every failure of the mux itself is a NatsRequestError with a `reason`; what the reply means is
 * for the caller's `decode` to say (it runs in the subscription callback and may throw).
 */
import { ClosedConnectionError, createInbox, DrainingConnectionError, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { NatsRequestError, type NatsRequestFailure } from './errors.js';
import type { Publish } from './held-publisher.js';

export interface RequestMuxOptions {
  /** How often waiting requests are checked against their deadlines, in ms (default 50). */
  sweepMs?: number;
  /**
   * Where requests are published (default: the connection itself). A HeldPublisher shared with the
   * service's other publishes puts a turn's requests in one socket write; a request it could not
   * hand over then fails by its deadline, or at once when the connection closes.
   */
  publisher?: Publish;
}

/** A request waiting for its reply. */
interface Waiting {
  readonly subject: string;
  readonly deadline: number;
  readonly decode: (msg: Msg) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export class RequestMux {
  readonly #nc: NatsConnection;
  readonly #publisher: Publish;
  readonly #sub: Subscription;
  /** `<inbox>.`: the reply subject of a request is this and its token. */
  readonly #prefix: string;
  readonly #sweepMs: number;
  readonly #waiting = new Map<string, Waiting>();
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(nc: NatsConnection, o: RequestMuxOptions = {}) {
    this.#nc = nc;
    this.#publisher = o.publisher ?? nc;
    this.#sweepMs = o.sweepMs ?? 50;
    const inbox = createInbox();
    this.#prefix = `${inbox}.`;
    this.#sub = this.#nc.subscribe(`${inbox}.*`, { callback: (err, msg) => this.#reply(err, msg) });
    // A subscription error (permissions) or drain ends the subscription: nothing can be answered.
    void this.#sub.closed.then(
      () => this.close(),
      () => this.close(),
    );
    void this.#nc.closed().then(() => this.close());
    // The status iterator ends with the connection; it does not fail.
    this.#watch().catch(() => this.close());
  }

  async #watch(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (this.#closed) break;
      // Replies to what was sent on the lost connection will never come.
      if (s.type === 'disconnect') this.#failAll('disconnected', 'NATS connection lost');
    }
  }

  /** Requests waiting for a reply. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * Publishes `payload` to `subject` with a reply subject of this mux and resolves with
   * `decode(reply)`; rejects with a NatsRequestError (no responders, no reply within `timeoutMs`,
   * connection lost or closed) or whatever `decode` throws.
   */
  request<T>(subject: string, payload: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number, decode: (msg: Msg) => T): Promise<T> {
    if (this.#closed) return Promise.reject(new NatsRequestError('closed', subject, 'NATS connection closed'));
    const token = (this.#next++).toString(36);
    const reply = this.#prefix + token;
    return new Promise<T>((resolve, reject) => {
      try {
        this.#publisher.publish(subject, payload, headers === undefined ? { reply } : { reply, headers });
      } catch (err) {
        reject(publishFailure(subject, err));
        return;
      }
      this.#waiting.set(token, { subject, deadline: performance.now() + timeoutMs, decode, resolve: resolve as (v: unknown) => void, reject });
      if (this.#timer === undefined) {
        this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
        this.#timer.unref();
      }
    });
  }

  /** Fails every waiting request and stops; later requests fail at once. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#failAll('closed', 'NATS connection closed');
    if (!this.#sub.isClosed()) {
      try {
        this.#sub.unsubscribe();
      } catch {
        // the connection is closed already
      }
    }
  }

  #reply(err: Error | null, msg: Msg): void {
    if (err !== null) {
      this.#failAll('closed', `reply subscription failed: ${err.message}`, err);
      return;
    }
    const token = msg.subject.substring(this.#prefix.length);
    const w = this.#waiting.get(token);
    if (w === undefined) return; // late: timed out or failed already
    this.#waiting.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      w.reject(new NatsRequestError('no-responders', w.subject, `no responders: ${w.subject}`));
      return;
    }
    let value: unknown;
    try {
      value = w.decode(msg);
    } catch (e) {
      w.reject(e);
      return;
    }
    w.resolve(value);
  }

  #sweep(): void {
    if (this.#waiting.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const [token, w] of this.#waiting) {
      if (w.deadline > now) continue;
      this.#waiting.delete(token);
      w.reject(new NatsRequestError('timeout', w.subject, `no reply within the deadline: ${w.subject}`));
    }
  }

  #failAll(reason: NatsRequestFailure, message: string, cause?: unknown): void {
    if (this.#waiting.size === 0) return;
    const all = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of all) w.reject(new NatsRequestError(reason, w.subject, `${message}: ${w.subject}`, cause === undefined ? undefined : { cause }));
  }
}

/** A publish refused by the client: closed or draining connections fail like a lost one. */
function publishFailure(subject: string, err: unknown): unknown {
  if (err instanceof ClosedConnectionError || err instanceof DrainingConnectionError) {
    return new NatsRequestError('closed', subject, `${err.message}: ${subject}`, { cause: err });
  }
  return err;
}
