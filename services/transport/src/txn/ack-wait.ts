/**
 * Retransmission of a 2xx to an INVITE until its ACK arrives, RFC 3261 §13.3.1.4 (a UAS core
 * duty, done in the transport so retransmissions never cross NATS): the 2xx is resent after
 * T1, 2*T1, 4*T1... capped at T2, until an ACK with the same Call-ID, CSeq number and To tag
 * arrives, or 64*T1 passes; then `onGiveUp` runs (the TU should send BYE, §13.3.1.4).
 */
import { transportError, type TxnError } from './errors.js';
import { TimerSet } from './timers.js';
import type { Clock, Flow, TimerValues } from './types.js';

export interface AckWaitHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  send(bytes: Uint8Array, flow: Flow): void;
  /** A retransmission was sent. */
  retransmitted(wait: AckWait): void;
  /** 64*T1 passed without ACK. */
  gaveUp(wait: AckWait): void;
  /** A retransmission could not be sent; retransmitting stopped. */
  failed(wait: AckWait, error: TxnError): void;
}

export class AckWait {
  readonly key: string;
  /** Id of the server transaction the 2xx was sent on. */
  readonly txnId: string;
  readonly callId: string;
  readonly cseq: number;
  readonly toTag: string | undefined;
  readonly flow: Flow;
  readonly #host: AckWaitHost;
  readonly #timers: TimerSet;
  #bytes: Uint8Array;
  #interval: number;
  #done = false;

  constructor(
    host: AckWaitHost,
    init: { key: string; txnId: string; callId: string; cseq: number; toTag: string | undefined; flow: Flow; bytes: Uint8Array },
  ) {
    this.#host = host;
    this.key = init.key;
    this.txnId = init.txnId;
    this.callId = init.callId;
    this.cseq = init.cseq;
    this.toTag = init.toTag;
    this.flow = init.flow;
    this.#bytes = init.bytes;
    this.#interval = host.timers.T1;
    this.#timers = new TimerSet(host.clock);
    this.#timers.arm('retransmit', this.#interval, () => this.#onRetransmit());
    this.#timers.arm('give-up', 64 * host.timers.T1, () => this.#onGiveUp());
  }

  get done(): boolean {
    return this.#done;
  }

  /** The TU sent the 2xx again (e.g. changed): later retransmissions use the newest bytes. */
  update(bytes: Uint8Array): void {
    this.#bytes = bytes;
  }

  /** The ACK arrived, or the layer closes: stop everything. */
  stop(): void {
    this.#done = true;
    this.#timers.cancelAll();
  }

  #onRetransmit(): void {
    if (this.#done) return;
    try {
      this.#host.send(this.#bytes, this.flow);
    } catch (cause) {
      this.stop();
      this.#host.failed(this, transportError(cause));
      return;
    }
    this.#host.retransmitted(this);
    this.#interval = Math.min(2 * this.#interval, this.#host.timers.T2);
    this.#timers.arm('retransmit', this.#interval, () => this.#onRetransmit());
  }

  #onGiveUp(): void {
    if (this.#done) return;
    this.stop();
    this.#host.gaveUp(this);
  }
}
