/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2 (figure 8).
 *
 *   Trying ──1xx from TU──▶ Proceeding ──200-699 from TU──▶ Completed ──Timer J──▶ Terminated
 *     └──────────200-699 from TU─────────────────────────────▲
 *
 * Trying and Proceeding have no RFC timer; after 64*T1 without a final response the client's
 * Timer F has fired, nobody waits any more, and the transaction is dropped (bounded memory when
 * the TU never answers).
 *
 * Completed over an unreliable flow lasts Timer J (64*T1) and only resends the final response;
 * this machine hands that duty to the layer's completed table (completed-table.ts), which keeps
 * the key, the response bytes and the flow, and the layer forgets the machine. Whoever still holds
 * it as a handle sees `completed` until the table ends the transaction, then `terminated`, and a
 * compact copy of the request (compact-request.ts).
 */
import { transportError } from './errors.js';
import { RespondOutcome, type AwaitsFinal, type Machine, type MachineHost } from './machine.js';
import { compactRequest } from './compact-request.js';
import type { Flow, TxnRequest } from './types.js';
import { TerminationReason, TxnSide } from './types.js';

export const NonInviteServerState = {
  trying: 'trying',
  proceeding: 'proceeding',
  completed: 'completed',
  terminated: 'terminated',
} as const;
export type NonInviteServerState = (typeof NonInviteServerState)[keyof typeof NonInviteServerState];

export class NonInviteServerTxn implements Machine, AwaitsFinal {
  readonly side = TxnSide.server;
  readonly id: string;
  /** The number in `id` (the completed table's reference to the transaction). */
  readonly number: number;
  readonly key: string;
  #request: TxnRequest;
  readonly flow: Flow;
  readonly #host: MachineHost;
  /** Ticket of the 64*T1 deadline in the layer's queue while no final response was sent, else -1. */
  #noFinal: number;
  #state: NonInviteServerState = NonInviteServerState.trying;
  #lastResponse: Uint8Array | undefined;
  /** Set once handed over to the completed table. */
  #ticket: number | undefined;

  constructor(host: MachineHost, id: string, number: number, key: string, request: TxnRequest, flow: Flow) {
    this.#host = host;
    this.id = id;
    this.number = number;
    this.key = key;
    this.#request = request;
    this.flow = flow;
    this.#noFinal = host.awaitingFinal.add(this);
  }

  /** The request; a compact copy once Completed (compact-request.ts). */
  get request(): TxnRequest {
    return this.#request;
  }

  get method(): string {
    return this.#request.method;
  }

  get state(): NonInviteServerState {
    if (this.#ticket !== undefined && this.#state === NonInviteServerState.completed && !this.#host.stillCompleted(this.#ticket)) {
      return NonInviteServerState.terminated;
    }
    return this.#state;
  }

  /** A response from the TU. */
  respond(status: number, bytes: Uint8Array): RespondOutcome {
    switch (this.#state) {
      // §17.2.2: a provisional moves to (or stays in) Proceeding; a final enters Completed with
      // Timer J (64*T1 unreliable, 0 reliable).
      case NonInviteServerState.trying:
      case NonInviteServerState.proceeding:
        if (!this.#send(bytes)) return RespondOutcome.transportError;
        if (status < 200) {
          this.#lastResponse = bytes;
          this.#state = NonInviteServerState.proceeding;
          return RespondOutcome.sent;
        }
        this.#state = NonInviteServerState.completed;
        this.#cancelNoFinal();
        this.#lastResponse = undefined;
        if (this.flow.reliable) {
          this.#terminate(TerminationReason.normal);
        } else {
          this.#request = compactRequest(this.#request);
          this.#ticket = this.#host.handOverCompleted(this, bytes); // Timer J and retransmissions: completed-table.ts
        }
        return RespondOutcome.sent;
      // §17.2.2: in Completed, any other final response from the TU is discarded.
      case NonInviteServerState.completed:
      case NonInviteServerState.terminated:
        return RespondOutcome.badState;
    }
  }

  /** A retransmission of the request that created the transaction. */
  receiveRetransmission(): void {
    this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: this.method, direction: 'in' });
    switch (this.#state) {
      // §17.2.2: in Trying retransmissions are discarded (no response to repeat yet).
      case NonInviteServerState.trying:
      case NonInviteServerState.terminated:
        return;
      // §17.2.2: Completed resends the final response: the completed table does, this machine
      // no longer receives anything.
      case NonInviteServerState.completed:
        return;
      // §17.2.2: Proceeding resends the last provisional.
      case NonInviteServerState.proceeding:
        if (this.#lastResponse !== undefined && this.#send(this.#lastResponse)) {
          this.#host.emit({ type: 'retransmission', side: this.side, id: this.id, method: this.method, direction: 'out' });
        }
        return;
    }
  }

  abort(): void {
    this.#cancelNoFinal();
    this.#state = NonInviteServerState.terminated;
  }

  /** 64*T1 without a final response: the client gave up (Timer F), and so does this transaction. */
  noFinalResponse(): void {
    this.#noFinal = -1;
    if (this.#state !== NonInviteServerState.trying && this.#state !== NonInviteServerState.proceeding) return;
    this.#host.emit({ type: 'timeout', side: this.side, id: this.id, method: this.method, timer: 'no-final' });
    this.#terminate(TerminationReason.timeout);
  }

  #cancelNoFinal(): void {
    if (this.#noFinal < 0) return;
    this.#host.awaitingFinal.cancel(this.#noFinal);
    this.#noFinal = -1;
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
    if (this.#state === NonInviteServerState.terminated) return;
    const last = this.#state;
    this.#cancelNoFinal();
    this.#state = NonInviteServerState.terminated;
    this.#host.emit({ type: 'terminated', side: this.side, id: this.id, method: this.method, state: last, reason });
    this.#host.terminated(this, reason);
  }
}
