/**
 * INVITE server transaction, RFC 3261 §17.2.1 (figure 7) with RFC 6026 §7.1 (Accepted).
 *
 *   Proceeding ──300-699 from TU──▶ Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
 *     │                               └─ Timer G: resend final (unreliable), G = min(2G, T2)
 *     │                               └─ Timer H: no ACK, the TU is told, Terminated
 *     └──2xx from TU──▶ Accepted ──Timer L──▶ Terminated
 *
 * Proceeding has no RFC timer; Timer C (configurable) bounds it so that a TU that never answers
 * cannot pin memory.
 */
import { ownedBytes } from './compact-request.js';
import { transportError } from './errors.js';
import { buildLocalFinal } from './messages.js';
import { RespondOutcome, type Machine, type MachineHost } from './machine.js';
import { TimerSet } from './timers.js';
import type { Flow, TxnRequest } from './types.js';
import { TerminationReason, TxnSide } from './types.js';

export const InviteServerState = {
  proceeding: 'proceeding',
  completed: 'completed',
  confirmed: 'confirmed',
  accepted: 'accepted',
  terminated: 'terminated',
} as const;
export type InviteServerState = (typeof InviteServerState)[keyof typeof InviteServerState];

/** What an ACK that matched the INVITE transaction did. */
export const AckOutcome = {
  /** ACK for the non-2xx final response: absorbed by the transaction (§17.2.1). */
  absorbed: 'absorbed',
  /** RFC 6026 §7.1: an ACK matched in Accepted goes to the TU. */
  toTu: 'to-tu',
  /** An ACK before any final response: not meaningful for the transaction, goes to the TU. */
  unexpected: 'unexpected',
} as const;
export type AckOutcome = (typeof AckOutcome)[keyof typeof AckOutcome];

export class InviteServerTxn implements Machine {
  readonly side = TxnSide.server;
  readonly id: string;
  readonly key: string;
  readonly request: TxnRequest;
  readonly flow: Flow;
  readonly #host: MachineHost;
  readonly #timers: TimerSet;
  #state: InviteServerState = InviteServerState.proceeding;
  #lastResponse: Uint8Array | undefined;
  #intervalG: number;

  constructor(host: MachineHost, id: string, key: string, request: TxnRequest, flow: Flow) {
    this.#host = host;
    this.id = id;
    this.key = key;
    this.request = request;
    this.flow = flow;
    this.#timers = new TimerSet(host.clock);
    this.#intervalG = host.timers.T1;
    this.#timers.arm('C', host.timers.C, () => this.#onTimerC());
  }

  get method(): string {
    return this.request.method;
  }

  get state(): InviteServerState {
    return this.#state;
  }

  /** A response from the TU (the 100 Trying the layer generates included). */
  respond(status: number, bytes: Uint8Array): RespondOutcome {
    switch (this.#state) {
      // §17.2.1: provisionals are sent and kept for retransmitted INVITEs; 2xx enters Accepted
      // (RFC 6026 §7.1, Timer L = 64*T1); 300-699 enters Completed (Timers G and H).
      case InviteServerState.proceeding:
        if (!this.#send(bytes)) return RespondOutcome.transportError;
        // A final response is kept up to 64*T1: an exact copy, not a view (ownedBytes).
        this.#lastResponse = status >= 200 ? ownedBytes(bytes) : bytes;
        if (status >= 200 && status < 300) {
          this.#state = InviteServerState.accepted;
          this.#timers.cancel('C');
          this.#timers.arm('L', 64 * this.#host.timers.T1, () => this.#terminate(TerminationReason.normal));
        } else if (status >= 300) {
          this.#state = InviteServerState.completed;
          this.#timers.cancel('C');
          if (!this.flow.reliable) this.#timers.arm('G', this.#intervalG, () => this.#onTimerG());
          this.#timers.arm('H', 64 * this.#host.timers.T1, () => this.#onTimeout('H'));
        }
        return RespondOutcome.sent;
      // RFC 6026 §7.1: in Accepted, 2xx responses from the TU (retransmissions) go to the wire.
      case InviteServerState.accepted:
        if (status < 200 || status >= 300) return RespondOutcome.badState;
        if (!this.#send(bytes)) return RespondOutcome.transportError;
        return RespondOutcome.sent;
      case InviteServerState.completed:
      case InviteServerState.confirmed:
      case InviteServerState.terminated:
        return RespondOutcome.badState;
    }
  }

  /** A retransmission of the INVITE that created the transaction. */
  receiveRetransmission(): void {
    this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: this.method, direction: 'in' });
    switch (this.#state) {
      // §17.2.1: Proceeding resends the most recent provisional; Completed the final response.
      case InviteServerState.proceeding:
      case InviteServerState.completed:
        if (this.#lastResponse !== undefined) this.#resend(this.#lastResponse);
        return;
      // §17.2.1 Confirmed and RFC 6026 §7.1 Accepted: absorbed.
      case InviteServerState.confirmed:
      case InviteServerState.accepted:
      case InviteServerState.terminated:
        return;
    }
  }

  /** An ACK matching this transaction (§17.2.3). */
  receiveAck(): AckOutcome {
    switch (this.#state) {
      // §17.2.1: the ACK for the non-2xx final enters Confirmed: G stops, Timer I starts
      // (T4 unreliable, 0 reliable).
      case InviteServerState.completed:
        this.#state = InviteServerState.confirmed;
        this.#timers.cancel('G');
        this.#timers.cancel('H');
        if (this.flow.reliable) this.#terminate(TerminationReason.normal);
        else this.#timers.arm('I', this.#host.timers.T4, () => this.#terminate(TerminationReason.normal));
        return AckOutcome.absorbed;
      // §17.2.1: further ACKs in Confirmed are absorbed.
      case InviteServerState.confirmed:
        this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: 'ACK', direction: 'in' });
        return AckOutcome.absorbed;
      // RFC 6026 §7.1: ACK in Accepted is passed to the TU.
      case InviteServerState.accepted:
        return AckOutcome.toTu;
      case InviteServerState.proceeding:
      case InviteServerState.terminated:
        return AckOutcome.unexpected;
    }
  }

  abort(): void {
    this.#timers.cancelAll();
    this.#state = InviteServerState.terminated;
  }

  /** §17.2.1: Timer G in Completed resends the final response and doubles up to T2. */
  #onTimerG(): void {
    if (this.#state !== InviteServerState.completed || this.#lastResponse === undefined) return;
    if (!this.#resend(this.#lastResponse)) return;
    this.#intervalG = Math.min(2 * this.#intervalG, this.#host.timers.T2);
    this.#timers.arm('G', this.#intervalG, () => this.#onTimerG());
  }

  /**
   * The Timer C bound: the TU gave no final response in time. The caller already has a 1xx and
   * would wait forever, so the layer answers 408 itself (as a proxy does when its Timer C fires,
   * §16.8) and the transaction goes on as after any final response (Completed: Timers G and H).
   */
  #onTimerC(): void {
    this.#host.emit({ type: 'timeout', side: this.side, id: this.id, method: this.method, timer: 'C' });
    const bytes = buildLocalFinal(this.request, 408, 'Request Timeout', `sn${this.id.replace(/[^A-Za-z0-9]/g, '')}`);
    if (this.respond(408, bytes) !== RespondOutcome.sent) this.#terminate(TerminationReason.timeout);
  }

  /** §17.2.1 Timer H: no ACK for the final response. */
  #onTimeout(timer: string): void {
    this.#host.emit({ type: 'timeout', side: this.side, id: this.id, method: this.method, timer });
    this.#terminate(TerminationReason.timeout);
  }

  #resend(bytes: Uint8Array): boolean {
    if (!this.#send(bytes)) return false;
    this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: this.method, direction: 'out' });
    return true;
  }

  /** §17.2.4: a send failure terminates the transaction; the TU learns it from the result/event. */
  #send(bytes: Uint8Array): boolean {
    try {
      this.#host.send(bytes, this.flow);
      return true;
    } catch (cause) {
      const error = transportError(cause);
      this.#host.emit({ type: 'transport-error', side: this.side, id: this.id, method: this.method, error });
      this.#terminate(TerminationReason.transportError);
      return false;
    }
  }

  #terminate(reason: TerminationReason): void {
    if (this.#state === InviteServerState.terminated) return;
    const last = this.#state;
    this.#timers.cancelAll();
    this.#state = InviteServerState.terminated;
    this.#host.emit({ type: 'terminated', side: this.side, id: this.id, method: this.method, state: last, reason });
    this.#host.terminated(this, reason);
  }
}
