/**
 * Shapes the transaction layer works with. The message views are structural subsets of
 * `@sipnats/sip-codec`'s `SipRequest` / `SipResponse`, so parsed codec messages are passed in as
 * they are; the layer never parses or mutates them. Bytes it sends are always given to it
 * (request and response serialisations) or built by it from header values (100 Trying, the ACK
 * for a non-2xx final response).
 */

/** Opaque handle returned by a clock's `setTimer`. */
export type TimerHandle = unknown;

/** Injected time source; production uses `systemClock`, tests a fake one. */
export interface Clock {
  /** Milliseconds, monotonic enough for durations. */
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/**
 * A transport flow: where a message came from / goes to. Opaque to the layer except for
 * reliability (TCP, TLS, WS, WSS: no retransmissions, Timers A/E/G off, D/I/J/K zero).
 */
export interface Flow {
  readonly id: string;
  readonly reliable: boolean;
}

/** One Via value (the codec's `Via` satisfies it). */
export interface TxnVia {
  /** The value as received, used when copying the Via into a response or ACK. */
  readonly raw: string;
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly branch: string | undefined;
}

/** From / To (the codec's `NameAddr` satisfies it). */
export interface TxnNameAddr {
  readonly raw: string;
  readonly tag: string | undefined;
}

/** Members of a parsed message the layer reads. */
export interface TxnMessage {
  /**
   * The top Via (the codec's fast path: the other Via values are only copied as header lines);
   * undefined for a message without Via (the codec refuses those, the layer still answers 400).
   */
  readonly topVia: TxnVia | undefined;
  readonly from: TxnNameAddr;
  readonly to: TxnNameAddr;
  readonly callId: string;
  readonly cseq: { readonly seq: number; readonly method: string };
  /** Value of the first header with this name (case-insensitive). */
  getHeader(name: string): string | undefined;
  /** Values of every header line with this name, in order. */
  getHeaders(name: string): string[];
}

export interface TxnRequest extends TxnMessage {
  readonly kind: 'request';
  readonly method: string;
  /** Request-URI exactly as received. */
  readonly uri: string;
}

export interface TxnResponse extends TxnMessage {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

/** RFC 3261 §17 timer base values, milliseconds. */
export interface TimerValues {
  /** RTT estimate, default 500. */
  readonly T1: number;
  /** Longest retransmit interval for non-INVITE requests and INVITE responses, default 4000. */
  readonly T2: number;
  /** Longest time a message stays in the network, default 5000. */
  readonly T4: number;
  /** Timer D for unreliable flows (> 32 s, §17.1.1.2), default 32000. */
  readonly D: number;
  /**
   * Longest time an INVITE transaction (client or server) may stay without a final response
   * (Timer C of §16.6, > 3 min), default 180000. Keeps memory bounded when a peer or the TU never
   * sends a final response.
   */
  readonly C: number;
}

/** Who the layer tells about a client transaction's outcome. */
export interface ClientTu {
  /** A response the TU must see (provisionals, the first final, RFC 6026 2xx retransmissions). */
  onResponse(response: TxnResponse, flow: Flow): void;
  /** Timer B / F (or the Timer C bound) fired without a final response: the TU answers 408. */
  onTimeout(): void;
  /** Sending failed (§17.1.4): the transaction is terminated. */
  onTransportError(error: Error): void;
}

export const TxnSide = { server: 'server', client: 'client' } as const;
export type TxnSide = (typeof TxnSide)[keyof typeof TxnSide];

/** Why a transaction ended, for metrics and logs. */
export const TerminationReason = {
  /** The state machine ran to its end. */
  normal: 'normal',
  /** Timer B/F/H/C, or a server transaction abandoned by its TU. */
  timeout: 'timeout',
  transportError: 'transport-error',
  /** `TransactionLayer.close()`. */
  closed: 'closed',
} as const;
export type TerminationReason = (typeof TerminationReason)[keyof typeof TerminationReason];

/** What the layer reports for metrics and logs (never needed for correctness). */
export type TxnEvent =
  | { readonly type: 'created'; readonly side: TxnSide; readonly id: string; readonly method: string }
  | {
      readonly type: 'terminated';
      readonly side: TxnSide;
      readonly id: string;
      readonly method: string;
      readonly state: string;
      readonly reason: TerminationReason;
    }
  /** `direction: 'out'`: the layer resent something; `'in'`: a peer's retransmission was absorbed. */
  | {
      readonly type: 'retransmission';
      readonly side: TxnSide;
      readonly id: string;
      readonly method: string;
      readonly direction: 'in' | 'out';
    }
  /** A timer ended the transaction without the expected message (B, F, H, or C). */
  | { readonly type: 'timeout'; readonly side: TxnSide; readonly id: string; readonly method: string; readonly timer: string }
  | { readonly type: 'transport-error'; readonly side: TxnSide; readonly id: string; readonly method: string; readonly error: Error }
  /**
   * No ACK arrived for a 2xx to an INVITE within 64*T1 (§13.3.1.4): the TU should send BYE.
   * `txn` is the id of the server transaction the 2xx was sent on.
   */
  | {
      readonly type: 'ack-timeout';
      readonly txn: string;
      readonly callId: string;
      readonly cseq: number;
      readonly toTag: string | undefined;
      readonly flowId: string;
    }
  /** A TU callback threw; the machine went on as if it had returned. */
  | { readonly type: 'tu-error'; readonly side: TxnSide; readonly id: string; readonly method: string; readonly error: Error }
  /** A request or response was refused because the transaction table was full. */
  | { readonly type: 'overload'; readonly side: TxnSide; readonly method: string };
