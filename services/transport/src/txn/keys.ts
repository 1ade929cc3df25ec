/**
 * Transaction matching keys.
 *
 * Server side, RFC 3261 §17.2.3: when the top Via branch starts with the magic cookie
 * `z9hG4bK`, a request matches a transaction by branch + sent-by + method, where an ACK matches
 * the INVITE transaction and a CANCEL is a transaction of its own (its INVITE is found with the
 * same branch and sent-by, method INVITE, §9.2). Without the cookie (RFC 2543 peers) the match
 * uses Request-URI, To tag, From tag, Call-ID, CSeq and the top Via; an ACK then matches the
 * INVITE transaction whose final response carried the ACK's To tag, and a CANCEL matches the
 * INVITE with the same fields and CSeq number.
 *
 * Client side, §17.1.3: a response matches by the top Via branch + CSeq method.
 */
import type { TxnRequest, TxnResponse, TxnVia } from './types.js';

export const MAGIC_COOKIE = 'z9hG4bK';

const SEP = '\u0000';

/** Default port of a sent-by without one (§18.1: 5060, 5061 for TLS/WSS via SIPS). */
function defaultPort(transport: string): number {
  const t = transport.toUpperCase();
  return t === 'TLS' || t === 'WSS' ? 5061 : 5060;
}

/** Canonical sent-by: host case-insensitive, the implied port made explicit. */
export function sentBy(via: TxnVia): string {
  return `${via.host.toLowerCase()}:${via.port ?? defaultPort(via.transport)}`;
}

export function hasMagicCookie(via: TxnVia): boolean {
  return via.branch !== undefined && via.branch.startsWith(MAGIC_COOKIE) && via.branch.length > MAGIC_COOKIE.length;
}

/** The Via compared as a whole for RFC 2543 matching: whitespace around separators ignored. */
function legacyVia(via: TxnVia): string {
  return via.raw.replace(/\s+/g, ' ').trim().toLowerCase();
}

function legacyKey(req: TxnRequest, top: TxnVia, method: string, toTag: string | undefined): string {
  return ['2543', req.uri, toTag ?? '', req.from.tag ?? '', req.callId, String(req.cseq.seq), method, legacyVia(top)].join(SEP);
}

/**
 * Key of the server transaction a request belongs to (an ACK: its INVITE transaction).
 * undefined when the request has no Via at all.
 */
export function serverKey(req: TxnRequest): string | undefined {
  const top = req.topVia;
  if (top === undefined) return undefined;
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  if (hasMagicCookie(top)) return ['3261', top.branch, sentBy(top), method].join(SEP);
  return legacyKey(req, top, method, req.to.tag);
}

/** Key of the INVITE server transaction a CANCEL targets (§9.2). */
export function cancelTargetKey(cancel: TxnRequest): string | undefined {
  const top = cancel.topVia;
  if (top === undefined) return undefined;
  if (hasMagicCookie(top)) return ['3261', top.branch, sentBy(top), 'INVITE'].join(SEP);
  return legacyKey(cancel, top, 'INVITE', cancel.to.tag);
}

/**
 * RFC 2543 only: the key an ACK for a final response with this To tag computes, registered as
 * an alias of the INVITE transaction when that response is sent. undefined for cookie branches,
 * whose ACK already computes the transaction's own key.
 */
export function legacyAckAlias(invite: TxnRequest, responseToTag: string | undefined): string | undefined {
  const top = invite.topVia;
  if (top === undefined || hasMagicCookie(top)) return undefined;
  return legacyKey(invite, top, 'INVITE', responseToTag);
}

/** Key of a client transaction: branch + method (§17.1.3). */
export function clientKey(branch: string, method: string): string {
  return branch + SEP + method;
}

/** Key of a client transaction from the request it sends (§17.1.3). */
export function clientKeyOfRequest(req: TxnRequest): string | undefined {
  const branch = req.topVia?.branch;
  if (branch === undefined || branch === '') return undefined;
  return clientKey(branch, req.method);
}

/** Key of the client transaction a response belongs to (§17.1.3). */
export function clientKeyOfResponse(res: TxnResponse): string | undefined {
  const branch = res.topVia?.branch;
  if (branch === undefined || branch === '') return undefined;
  return clientKey(branch, res.cseq.method);
}

/** Key of a pending 2xx waiting for its ACK (§13.3.1.4): Call-ID, CSeq number, To tag. */
export function ackWaitKey(callId: string, cseq: number, toTag: string | undefined): string {
  return [callId, String(cseq), toTag ?? ''].join(SEP);
}
