/**
 * Flows: the path a message came in on and a response or flow-bound request goes out on
 * (RFC 5626 §3.4 in spirit). A stream flow is one connection; a UDP flow is a listener plus a
 * remote address and lives as long as the listener.
 */
import type { FlowCloseReason } from '@sipnats/contracts';
import type { SipMessage, SipParseError } from '@sipnats/sip-codec';
import type { HostPort, TransportName } from './address.js';

/** What a listener tells the rest of the transport about itself. */
export interface ListenerInfo {
  /** Index in SIP_LISTEN order, stable for the process lifetime; part of UDP flow ids. */
  readonly index: number;
  readonly transport: TransportName;
  /** Bound address (the real port when 0 was asked for). */
  readonly local: HostPort;
  /** What goes into Via, Record-Route, Path and Contact. */
  readonly advertised: HostPort;
}

export interface Flow {
  readonly id: string;
  readonly transport: TransportName;
  readonly listener: ListenerInfo;
  readonly local: HostPort;
  readonly remote: HostPort;
  /** True for connection-oriented transports (responses follow the connection, RFC 3261 §18.2.2). */
  readonly reliable: boolean;
  /** Sends one complete message; false when the flow is closed or the write was refused. */
  send(data: Uint8Array): boolean;
  readonly closed: boolean;
}

/** What a stream framer already found out about a framed message. */
export type Preparsed = { readonly message: SipMessage } | { readonly error: SipParseError };

/**
 * Receives every framed message: a datagram, a WebSocket message, or one message cut from a
 * stream (then already parsed by the framer: `pre`).
 */
export type InboundHandler = (data: Uint8Array, flow: Flow, receivedAt: number, pre?: Preparsed) => void;

/**
 * Notified once when a stream flow closes (flow table, metrics, the `<p>.evt.flow.closed` event):
 * `reason` is the stable class (FlowEvent reasons), `detail` the words for logs.
 */
export type FlowClosedHandler = (flow: Flow, reason: FlowCloseReason, detail: string) => void;

/** Why we close a connection ourselves. */
export interface CloseCause {
  readonly reason: FlowCloseReason;
  readonly detail: string;
}

export interface Listener {
  readonly info: ListenerInfo;
  /** Resolves once the socket is bound; info.local then carries the real port. */
  start(): Promise<void>;
  /** Stops accepting, closes every connection of this listener. */
  close(): Promise<void>;
  /**
   * A flow towards a remote address: UDP gives a datagram flow at once; TCP/TLS open (or reuse)
   * a client connection; WS cannot connect out and returns undefined.
   */
  flowTo(remote: HostPort): Flow | undefined;
  /** Open connections of this listener (0 for UDP). */
  readonly connections: number;
}
