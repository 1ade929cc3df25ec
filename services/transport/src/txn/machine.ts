/**
 * What every transaction state machine gets from the layer: the clock, timer values, the
 * transport's send, event reporting, and a callback when it reaches Terminated (the layer then
 * drops it from its tables: "once the transaction is in the Terminated state, it MUST be
 * destroyed immediately", §17.1.1.2 and elsewhere).
 */
import type { CompletingTxn } from './completed-table.js';
import type { DeadlineQueue } from './deadline-queue.js';
import type { Clock, Flow, TerminationReason, TimerValues, TxnEvent, TxnSide } from './types.js';

/** A transaction that gives up when no final response came within 64*T1 (non-INVITE server). */
export interface AwaitsFinal {
  noFinalResponse(): void;
}

export interface MachineHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  /** The transport's send; may throw (§17.1.4, §17.2.4 transport errors). */
  send(bytes: Uint8Array, flow: Flow): void;
  emit(event: TxnEvent): void;
  terminated(txn: Machine, reason: TerminationReason): void;
  /**
   * A non-INVITE server transaction entered Completed over an unreliable flow, having sent
   * `bytes`: the layer's completed table (completed-table.ts) takes over its duties until Timer J
   * and the layer forgets the machine. Returns the ticket for `stillCompleted`.
   */
  handOverCompleted(txn: CompletingTxn & Machine, bytes: Uint8Array): number;
  /** Whether the transaction handed over with `ticket` is still in Completed. */
  stillCompleted(ticket: number): boolean;
  /**
   * 64*T1 deadlines of server transactions waiting for a final response, one clock timer for all
   * of them (deadline-queue.ts): `noFinalResponse()` runs for one that reaches it.
   */
  readonly awaitingFinal: DeadlineQueue<AwaitsFinal>;
}

/** Outcome of a response the TU hands to a server transaction. */
export const RespondOutcome = {
  sent: 'sent',
  /** The response is not allowed in the current state (e.g. a second final response). */
  badState: 'bad-state',
  /** Sending failed; the transaction is terminated (§17.2.4). */
  transportError: 'transport-error',
} as const;
export type RespondOutcome = (typeof RespondOutcome)[keyof typeof RespondOutcome];

/** Members the layer uses on every machine. */
export interface Machine {
  readonly id: string;
  readonly side: TxnSide;
  readonly method: string;
  readonly state: string;
  /** Stops every timer and enters Terminated without telling the TU (layer shutdown). */
  abort(): void;
}

/** Runs a TU callback so that a throwing TU cannot break the machine (or crash a timer). */
export function callTu(host: MachineHost, side: TxnSide, id: string, method: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    host.emit({ type: 'tu-error', side, id, method, error: error instanceof Error ? error : new Error(String(error)) });
  }
}
