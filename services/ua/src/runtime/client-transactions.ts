/**
 * Requests the ua sends (BYE, INFO, re-INVITE, UPDATE...): published as OutMessage on
 * `<p>.out.<instance>` of the call's flow with a reply subject under one inbox subscription; each
 * ResponseEnvelope of the client transaction comes back there and is handed to the caller. The
 * pending table is bounded; an entry goes on a final response or after `timeoutMs`.
 *
 * Every request with a handler gets a final response, even when no transport ever answers: when
 * NATS reports that nobody listens on the subject (the instance holding the flow is gone) the
 * handler gets a local 503 at once, and when nothing final came within `timeoutMs` (the transport
 * died with the transaction) a local 408 with `timeout: true`, as the transport's Timer B/F would.
 */
import { decodeJson, encodeJson, OutMessage, ResponseEnvelope, toBase64, type FlowRef, type Subjects } from '@sipnats/contracts';
import { parseMessage, type ParseOptions } from '@sipnats/sip-codec';
import { UA_ERROR, UaError } from '../errors.js';
import type { Messaging, MessagingSubscription } from './messaging.js';

/** Requests the ua sends carry no Via: the transport adds its own. */
const LOCAL_REQUEST: ParseOptions = { allowMissingVia: true };

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
  /** The request, for a locally generated final response (its Call-ID and CSeq). */
  readonly raw: Uint8Array;
  /** Where it was sent (`<p>.out` when undefined). */
  readonly instance: string | undefined;
  /** A final response was handed to the handler. */
  final: boolean;
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
      if (msg.noResponders === true) {
        this.#localFinal(id, p, 503, 'Service Unavailable', `no transport listens on ${p.instance === undefined ? this.#o.subjects.outAny() : this.#o.subjects.out(p.instance)}`);
        return;
      }
      const r = decodeJson(ResponseEnvelope, msg.data);
      if (!r.ok) {
        this.#o.onError(new UaError(UA_ERROR.encode, `invalid ResponseEnvelope: ${r.errors.join('; ')}`));
        return;
      }
      if (r.value.status >= 200) {
        p.final = true;
        if (!p.keep) {
          clearTimeout(p.timer);
          this.#pending.delete(id);
        }
      }
      this.#deliver(p, r.value);
    });
  }

  #deliver(p: Pending, env: ResponseEnvelope): void {
    try {
      p.handler(env);
    } catch (err) {
      this.#o.onError(err);
    }
  }

  /** Ends a pending request with a response generated here (no transport answered). */
  #localFinal(id: string, p: Pending, status: number, reason: string, error: string, timeout = false): void {
    clearTimeout(p.timer);
    this.#pending.delete(id);
    if (p.final) return;
    let msg;
    try {
      msg = parseMessage(p.raw, LOCAL_REQUEST);
    } catch (err) {
      this.#o.onError(err);
      return;
    }
    if (msg.kind !== 'request') return;
    this.#deliver(p, {
      v: 1,
      instance: p.instance ?? 'none',
      txn: `local-${id}`,
      status,
      reason,
      callId: msg.callId,
      cseq: { seq: msg.cseq.seq, method: msg.cseq.method },
      ...(timeout ? { timeout } : {}),
      error,
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
    const timer = setTimeout(() => {
      const p = this.#pending.get(id);
      if (p !== undefined) this.#localFinal(id, p, 408, 'Request Timeout', `no final response within ${this.#o.timeoutMs} ms`, true);
    }, this.#o.timeoutMs);
    timer.unref();
    this.#pending.set(id, { handler, timer, keep: o.keepAfterFinal === true, raw, instance: o.instance, final: false });
    this.#o.messaging.publish(subject, encodeJson(OutMessage, out), `${this.#prefix}.${id}`);
  }

  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
  }
}
