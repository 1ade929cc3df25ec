/**
 * RFC 3261 §17 transaction layer with RFC 6026, as pure state machines driven by an injected
 * clock and send function. Wiring (in the transport):
 *
 *   const txns = new TransactionLayer({ clock: systemClock, send, limits, sendTrying: true, onEvent });
 *   // wire → layer, after parsing and applying rport/received to the top Via:
 *   switch (txns.receiveRequest(req, flow).kind) { 'new' → publish; 'retransmission' → nothing;
 *     'ack' (matched 'non2xx' → nothing, else publish); 'cancel' → publish (or 481 when no invite);
 *     'overload' → stateless 503; 'invalid' → stateless 400 }
 *   txns.receiveResponse(res, flow)   // 'unmatched' → drop or forward by branch
 *   // TU → layer:
 *   txns.respond(txnId, res, bytes); txns.request(req, bytes, flow, { onResponse, onTimeout, onTransportError });
 *   // metrics: onEvent gets created/terminated/retransmission/timeout/ack-timeout/overload...
 */
export { TransactionLayer } from './transaction-layer.js';
export type {
  ClientTxnHandle,
  ReceiveRequestResult,
  ReceiveResponseResult,
  RespondResult,
  ServerTxnHandle,
  TransactionLayerOptions,
} from './transaction-layer.js';
export { RespondOutcome } from './machine.js';
export { InviteClientState } from './invite-client.js';
export { NonInviteClientState } from './non-invite-client.js';
export { InviteServerState } from './invite-server.js';
export { NonInviteServerState } from './non-invite-server.js';
export { TxnError, TxnErrorCode } from './errors.js';
export { DEFAULT_TIMERS } from './timers.js';
export { DeadlineQueue } from './deadline-queue.js';
export { systemClock } from './system-clock.js';
export { ManualClock } from './manual-clock.js';
export { MAGIC_COOKIE } from './keys.js';
export { buildTrying, buildNon2xxAck } from './messages.js';
export { TerminationReason, TxnSide } from './types.js';
export type {
  Clock,
  ClientTu,
  Flow,
  TimerHandle,
  TimerValues,
  TxnEvent,
  TxnMessage,
  TxnNameAddr,
  TxnRequest,
  TxnResponse,
  TxnVia,
} from './types.js';
