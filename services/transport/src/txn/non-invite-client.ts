/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2 (figure 6).
 *
 *   Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer K──▶ Terminated
 *     │  └──────────200-699──────────────────────▲
 *     └─ Timer E: retransmit (unreliable), E = min(2E, T2); Timer F: timeout
 */
import { transportError } from './errors.js';
import { callTu, type Machine, type MachineHost } from './machine.js';
import { TimerSet } from './timers.js';
import type { ClientTu, Flow, TxnRequest, TxnResponse } from './types.js';
import { TerminationReason, TxnSide } from './types.js';

export const NonInviteClientState = {
  trying: 'trying',
  proceeding: 'proceeding',
  completed: 'completed',
  terminated: 'terminated',
} as const;
export type NonInviteClientState = (typeof NonInviteClientState)[keyof typeof NonInviteClientState];

export class NonInviteClientTxn implements Machine {
  readonly side = TxnSide.client;
  readonly id: string;
  readonly request: TxnRequest;
  readonly flow: Flow;
  readonly #bytes: Uint8Array;
  readonly #tu: ClientTu;
  readonly #host: MachineHost;
  readonly #timers: TimerSet;
  #state: NonInviteClientState = NonInviteClientState.trying;
  #intervalE: number;

  constructor(host: MachineHost, id: string, request: TxnRequest, bytes: Uint8Array, flow: Flow, tu: ClientTu) {
    this.#host = host;
    this.id = id;
    this.request = request;
    this.#bytes = bytes;
    this.flow = flow;
    this.#tu = tu;
    this.#timers = new TimerSet(host.clock);
    this.#intervalE = host.timers.T1;
  }

  get method(): string {
    return this.request.method;
  }

  get state(): NonInviteClientState {
    return this.#state;
  }

  /**
   * §17.1.2.2: enter Trying, send the request, start Timer E (unreliable only) at T1 and
   * Timer F at 64*T1. Throws the transport's error when the first send fails.
   */
  start(): void {
    this.#host.send(this.#bytes, this.flow);
    const { T1 } = this.#host.timers;
    if (!this.flow.reliable) this.#timers.arm('E', this.#intervalE, () => this.#onTimerE());
    this.#timers.arm('F', 64 * T1, () => this.#onTimerF());
  }

  /** A matching response. Returns whether it was passed to the TU. */
  receive(response: TxnResponse, flow: Flow): boolean {
    const provisional = response.status < 200;
    switch (this.#state) {
      // §17.1.2.2: a provisional moves Trying to Proceeding; a final to Completed; both go to the TU.
      case NonInviteClientState.trying:
      case NonInviteClientState.proceeding:
        if (provisional) {
          this.#state = NonInviteClientState.proceeding;
        } else {
          this.#complete();
        }
        callTu(this.#host, this.side, this.id, this.method, () => this.#tu.onResponse(response, flow));
        if (!provisional && this.flow.reliable) this.#terminate(TerminationReason.normal);
        return true;
      // §17.1.2.2: Completed buffers response retransmissions (absorbed).
      case NonInviteClientState.completed:
        this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: this.method, direction: 'in' });
        return false;
      case NonInviteClientState.terminated:
        return false;
    }
  }

  abort(): void {
    this.#timers.cancelAll();
    this.#state = NonInviteClientState.terminated;
  }

  /** §17.1.2.2: a final response stops E and F and starts Timer K (T4 unreliable, 0 reliable). */
  #complete(): void {
    this.#state = NonInviteClientState.completed;
    this.#timers.cancel('E');
    this.#timers.cancel('F');
    if (!this.flow.reliable) this.#timers.arm('K', this.#host.timers.T4, () => this.#terminate(TerminationReason.normal));
  }

  /**
   * §17.1.2.2: Timer E in Trying retransmits and doubles up to T2; in Proceeding it
   * retransmits and is reset to T2.
   */
  #onTimerE(): void {
    if (this.#state !== NonInviteClientState.trying && this.#state !== NonInviteClientState.proceeding) return;
    try {
      this.#host.send(this.#bytes, this.flow);
    } catch (error) {
      this.#failTransport(error);
      return;
    }
    this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: this.method, direction: 'out' });
    const { T2 } = this.#host.timers;
    this.#intervalE = this.#state === NonInviteClientState.trying ? Math.min(2 * this.#intervalE, T2) : T2;
    this.#timers.arm('E', this.#intervalE, () => this.#onTimerE());
  }

  /** §17.1.2.2: Timer F in Trying or Proceeding: the TU is told of the timeout. */
  #onTimerF(): void {
    if (this.#state !== NonInviteClientState.trying && this.#state !== NonInviteClientState.proceeding) return;
    this.#host.emit({ type: 'timeout', side: this.side, id: this.id, method: this.method, timer: 'F' });
    this.#terminate(TerminationReason.timeout);
    callTu(this.#host, this.side, this.id, this.method, () => this.#tu.onTimeout());
  }

  /** §17.1.4: a transport failure terminates the transaction and is reported to the TU. */
  #failTransport(cause: unknown): void {
    const error = transportError(cause);
    this.#host.emit({ type: 'transport-error', side: this.side, id: this.id, method: this.method, error });
    this.#terminate(TerminationReason.transportError);
    callTu(this.#host, this.side, this.id, this.method, () => this.#tu.onTransportError(error));
  }

  #terminate(reason: TerminationReason): void {
    if (this.#state === NonInviteClientState.terminated) return;
    const last = this.#state;
    this.#timers.cancelAll();
    this.#state = NonInviteClientState.terminated;
    this.#host.emit({ type: 'terminated', side: this.side, id: this.id, method: this.method, state: last, reason });
    this.#host.terminated(this, reason);
  }
}
