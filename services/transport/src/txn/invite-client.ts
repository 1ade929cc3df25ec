/**
 * INVITE client transaction, RFC 3261 §17.1.1 (figure 5) with RFC 6026 §8.4 (Accepted).
 *
 *   Calling ──1xx──▶ Proceeding ──300-699: send ACK──▶ Completed ──Timer D──▶ Terminated
 *     │  │              └──2xx──▶ Accepted ──Timer M──▶ Terminated
 *     │  ├─2xx──▶ Accepted          (2xx retransmissions passed to the TU)
 *     │  └─300-699: send ACK──▶ Completed
 *     └─ Timer A: retransmit (unreliable), A = 2A; Timer B: timeout
 *
 * Proceeding has no RFC timer; Timer C (configurable, §16.6) bounds it, and a CANCEL sent for
 * the INVITE bounds it to 64*T1 (§9.1), so a peer that never answers cannot pin memory.
 */
import { transportError } from './errors.js';
import { callTu, type Machine, type MachineHost } from './machine.js';
import { buildNon2xxAck } from './messages.js';
import { TimerSet } from './timers.js';
import type { ClientTu, Flow, TxnRequest, TxnResponse } from './types.js';
import { TerminationReason, TxnSide } from './types.js';

export const InviteClientState = {
  calling: 'calling',
  proceeding: 'proceeding',
  completed: 'completed',
  accepted: 'accepted',
  terminated: 'terminated',
} as const;
export type InviteClientState = (typeof InviteClientState)[keyof typeof InviteClientState];

export class InviteClientTxn implements Machine {
  readonly side = TxnSide.client;
  readonly id: string;
  readonly request: TxnRequest;
  readonly flow: Flow;
  readonly #bytes: Uint8Array;
  readonly #tu: ClientTu;
  readonly #host: MachineHost;
  readonly #timers: TimerSet;
  #state: InviteClientState = InviteClientState.calling;
  #intervalA: number;
  #ack: Uint8Array | undefined;

  constructor(host: MachineHost, id: string, request: TxnRequest, bytes: Uint8Array, flow: Flow, tu: ClientTu) {
    this.#host = host;
    this.id = id;
    this.request = request;
    this.#bytes = bytes;
    this.flow = flow;
    this.#tu = tu;
    this.#timers = new TimerSet(host.clock);
    this.#intervalA = host.timers.T1;
  }

  get method(): string {
    return this.request.method;
  }

  get state(): InviteClientState {
    return this.#state;
  }

  /**
   * §17.1.1.2: enter Calling, send the INVITE, start Timer A (unreliable only) at T1 and Timer B
   * at 64*T1. Throws the transport's error when the first send fails.
   */
  start(): void {
    this.#host.send(this.#bytes, this.flow);
    if (!this.flow.reliable) this.#timers.arm('A', this.#intervalA, () => this.#onTimerA());
    this.#timers.arm('B', 64 * this.#host.timers.T1, () => this.#onTimeout('B'));
  }

  /** §9.1: once a CANCEL is sent, a final response is awaited for at most 64*T1. */
  cancelSent(): void {
    if (this.#state !== InviteClientState.calling && this.#state !== InviteClientState.proceeding) return;
    if (this.#timers.has('cancel')) return;
    this.#timers.arm('cancel', 64 * this.#host.timers.T1, () => this.#onTimeout('cancel'));
  }

  /** A matching response. Returns whether it was passed to the TU. */
  receive(response: TxnResponse, flow: Flow): boolean {
    const status = response.status;
    switch (this.#state) {
      // §17.1.1.2: in Calling and Proceeding every response goes to the TU; a provisional moves
      // Calling to Proceeding, a 2xx to Accepted (RFC 6026 §8.4), 300-699 to Completed with an ACK.
      case InviteClientState.calling:
      case InviteClientState.proceeding: {
        // Reliable flows: Timer D is 0, Completed ends once the TU has the response. A failed ACK
        // also ends it, but the TU still gets the final response it is waiting for.
        let end: TerminationReason | undefined;
        if (status < 200) {
          if (this.#state === InviteClientState.calling) this.#enterProceeding();
        } else if (status < 300) {
          this.#enterAccepted();
        } else if (!this.#enterCompleted(response)) {
          end = TerminationReason.transportError;
        } else if (this.flow.reliable) {
          end = TerminationReason.normal;
        }
        callTu(this.#host, this.side, this.id, this.method, () => this.#tu.onResponse(response, flow));
        if (end !== undefined) this.#terminate(end);
        return true;
      }
      // §17.1.1.2: a retransmitted final response in Completed is answered with the same ACK and
      // not passed up.
      case InviteClientState.completed:
        this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: this.method, direction: 'in' });
        if (status >= 300 && this.#ack !== undefined && !this.#sendAck(this.#ack)) this.#terminate(TerminationReason.transportError);
        return false;
      // RFC 6026 §8.4: in Accepted every 2xx (retransmissions, other forks) goes to the TU, which
      // ACKs them; anything else is absorbed.
      case InviteClientState.accepted:
        if (status >= 200 && status < 300) {
          callTu(this.#host, this.side, this.id, this.method, () => this.#tu.onResponse(response, flow));
          return true;
        }
        return false;
      case InviteClientState.terminated:
        return false;
    }
  }

  abort(): void {
    this.#timers.cancelAll();
    this.#state = InviteClientState.terminated;
  }

  /** §17.1.1.2: a provisional stops retransmissions; Timer B only applies in Calling. */
  #enterProceeding(): void {
    this.#state = InviteClientState.proceeding;
    this.#timers.cancel('A');
    this.#timers.cancel('B');
    this.#timers.arm('C', this.#host.timers.C, () => this.#onTimeout('C'));
  }

  /** RFC 6026 §8.4: a 2xx enters Accepted with Timer M = 64*T1. */
  #enterAccepted(): void {
    this.#state = InviteClientState.accepted;
    this.#cancelWaiting();
    this.#timers.arm('M', 64 * this.#host.timers.T1, () => this.#terminate(TerminationReason.normal));
  }

  /**
   * §17.1.1.2/§17.1.1.3: 300-699 enters Completed, the ACK is built and sent, Timer D starts
   * (32 s unreliable, 0 reliable). Returns false when sending the ACK failed (terminated).
   */
  #enterCompleted(response: TxnResponse): boolean {
    this.#state = InviteClientState.completed;
    this.#cancelWaiting();
    this.#ack = buildNon2xxAck(this.request, response);
    if (!this.#sendAck(this.#ack)) return false;
    if (!this.flow.reliable) this.#timers.arm('D', this.#host.timers.D, () => this.#terminate(TerminationReason.normal));
    return true;
  }

  #cancelWaiting(): void {
    for (const name of ['A', 'B', 'C', 'cancel']) this.#timers.cancel(name);
  }

  /**
   * §17.1.4 for the ACK: the TU already has (or is about to get) the final response, so a
   * failure is reported as an event and ends the transaction without another TU callback.
   */
  #sendAck(ack: Uint8Array): boolean {
    try {
      this.#host.send(ack, this.flow);
      return true;
    } catch (cause) {
      const error = transportError(cause);
      this.#host.emit({ type: 'transport-error', side: this.side, id: this.id, method: this.method, error });
      return false;
    }
  }

  /** §17.1.1.2: Timer A in Calling retransmits the INVITE and doubles (no cap). */
  #onTimerA(): void {
    if (this.#state !== InviteClientState.calling) return;
    try {
      this.#host.send(this.#bytes, this.flow);
    } catch (error) {
      this.#failTransport(error);
      return;
    }
    this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: this.method, direction: 'out' });
    this.#intervalA *= 2;
    this.#timers.arm('A', this.#intervalA, () => this.#onTimerA());
  }

  /** §17.1.1.2 Timer B (and the C / CANCEL bounds): no final response, the TU is told. */
  #onTimeout(timer: string): void {
    if (this.#state !== InviteClientState.calling && this.#state !== InviteClientState.proceeding) return;
    this.#host.emit({ type: 'timeout', side: this.side, id: this.id, method: this.method, timer });
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
    if (this.#state === InviteClientState.terminated) return;
    const last = this.#state;
    this.#timers.cancelAll();
    this.#state = InviteClientState.terminated;
    this.#host.emit({ type: 'terminated', side: this.side, id: this.id, method: this.method, state: last, reason });
    this.#host.terminated(this, reason);
  }
}
