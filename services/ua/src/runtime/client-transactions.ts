/**
 * Requests the ua sends (BYE, INFO, re-INVITE, UPDATE...): published as OutMessage on
 * `<p>.out.<instance>` of the call's flow with a reply subject under one inbox subscription; each
 * ResponseEnvelope of the client transaction comes back there and is handed to the caller. The
 * pending table is bounded; an entry goes on a final response or after `timeoutMs`.
 */
import { decodeJson, encodeJson, OutMessage, ResponseEnvelope, toBase64, type FlowRef, type Subjects } from '@sipnats/contracts';
import { UA_ERROR, UaError } from '../errors.js';
import type { Messaging, MessagingSubscription } from './messaging.js';

export type ResponseHandler = (response: ResponseEnvelope) => void;

export interface ClientTransactionsOptions {
  readonly messaging: Messaging;
  readonly subjects: Subjects;
  readonly maxPending: number;
  /** Longest life of a pending request (the transport answers 408 after 64*T1 anyway). */
  readonly timeoutMs: number;
  readonly onError: (err: unknown) => void;
}

interface Pending {
  readonly handler: ResponseHandler;
  readonly timer: NodeJS.Timeout;
}

export class ClientTransactions {
  readonly #o: ClientTransactionsOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #prefix: string;
  #sub: MessagingSubscription | undefined;
  #seq = 0;

  constructor(o: ClientTransactionsOptions) {
    this.#o = o;
    this.#prefix = o.messaging.inboxPrefix();
  }

  get pending(): number {
    return this.#pending.size;
  }

  start(): void {
    this.#sub ??= this.#o.messaging.subscribe(`${this.#prefix}.*`, undefined, (msg) => {
      const id = msg.subject.slice(this.#prefix.length + 1);
      const p = this.#pending.get(id);
      if (p === undefined) return;
      const r = decodeJson(ResponseEnvelope, msg.data);
      if (!r.ok) {
        this.#o.onError(new UaError(UA_ERROR.encode, `invalid ResponseEnvelope: ${r.errors.join('; ')}`));
        return;
      }
      if (r.value.status >= 200) {
        clearTimeout(p.timer);
        this.#pending.delete(id);
      }
      try {
        p.handler(r.value);
      } catch (err) {
        this.#o.onError(err);
      }
    });
  }

  /** Sends `raw` through the transport that owns `flow`; `handler` gets every response. */
  send(flow: FlowRef, raw: Uint8Array, handler: ResponseHandler): void {
    if (this.#pending.size >= this.#o.maxPending) {
      throw new UaError(UA_ERROR.overloaded, `too many requests waiting for responses (${this.#o.maxPending})`);
    }
    const id = (++this.#seq).toString(36);
    const timer = setTimeout(() => this.#pending.delete(id), this.#o.timeoutMs);
    timer.unref();
    this.#pending.set(id, { handler, timer });
    const out: OutMessage = { v: 1, kind: 'request', raw: toBase64(raw), flow };
    this.#o.messaging.publish(this.#o.subjects.out(flow.instance), encodeJson(OutMessage, out), `${this.#prefix}.${id}`);
  }

  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
  }
}
