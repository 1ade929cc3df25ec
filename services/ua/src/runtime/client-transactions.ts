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
  /** Keep the entry after a final response (an INVITE: forked and retransmitted 2xx follow). */
  readonly keep: boolean;
}

/** Where and how a request goes (see `sendVia`). */
export interface SendOptions {
  /** Transport instance (`<p>.out.<instance>`); absent: any instance (`<p>.out`, queue group). */
  readonly instance?: string;
  readonly flow?: FlowRef;
  readonly target?: OutMessage['target'];
  /** Keep listening after the first final response until the timeout (INVITE: every 2xx of a fork). */
  readonly keepAfterFinal?: boolean;
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
      if (r.value.status >= 200 && !p.keep) {
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
    this.sendVia({ instance: flow.instance, flow }, raw, handler);
  }

  /**
   * Sends `raw` as `o` says; `handler` gets every response. Without a handler the request goes
   * without a reply subject: the transport sends it statelessly (an ACK for a 2xx).
   */
  sendVia(o: SendOptions, raw: Uint8Array, handler?: ResponseHandler): void {
    const out: OutMessage = {
      v: 1,
      kind: 'request',
      raw: toBase64(raw),
      ...(o.flow === undefined ? {} : { flow: o.flow }),
      ...(o.target === undefined ? {} : { target: o.target }),
    };
    const subject = o.instance === undefined ? this.#o.subjects.outAny() : this.#o.subjects.out(o.instance);
    if (handler === undefined) {
      this.#o.messaging.publish(subject, encodeJson(OutMessage, out));
      return;
    }
    if (this.#pending.size >= this.#o.maxPending) {
      throw new UaError(UA_ERROR.overloaded, `too many requests waiting for responses (${this.#o.maxPending})`);
    }
    const id = (++this.#seq).toString(36);
    const timer = setTimeout(() => this.#pending.delete(id), this.#o.timeoutMs);
    timer.unref();
    this.#pending.set(id, { handler, timer, keep: o.keepAfterFinal === true });
    this.#o.messaging.publish(subject, encodeJson(OutMessage, out), `${this.#prefix}.${id}`);
  }

  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
  }
}
