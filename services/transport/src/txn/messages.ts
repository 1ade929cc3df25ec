/**
 * Messages the transaction layer builds itself: the 100 (Trying) to a new INVITE (§8.2.6,
 * §17.2.1) and the ACK for a non-2xx final response (§17.1.1.3). Built from header values of
 * the parsed request, so the exact bytes are predictable and tested as golden bytes.
 */
import type { TxnRequest, TxnResponse } from './types.js';

const CRLF = '\r\n';
const encoder = new TextEncoder();

/** Via values of a request in order: header lines as they are now (after received/rport). */
function viaLines(req: TxnRequest): string[] {
  const lines = req.getHeaders('Via');
  if (lines.length > 0 || req.topVia === undefined) return lines;
  return [req.topVia.raw];
}

/**
 * 100 (Trying), §8.2.6: Via(s), From, To (no tag added, §17.2.1), Call-ID, CSeq and Timestamp
 * (§8.2.6.1) copied from the request, Content-Length 0.
 */
export function buildTrying(req: TxnRequest): Uint8Array {
  const lines = ['SIP/2.0 100 Trying'];
  for (const via of viaLines(req)) lines.push(`Via: ${via}`);
  lines.push(`From: ${req.from.raw}`, `To: ${req.to.raw}`, `Call-ID: ${req.callId}`, `CSeq: ${req.cseq.seq} ${req.cseq.method}`);
  const timestamp = req.getHeader('Timestamp');
  if (timestamp !== undefined) lines.push(`Timestamp: ${timestamp}`);
  lines.push('Content-Length: 0');
  return encoder.encode(lines.join(CRLF) + CRLF + CRLF);
}

/**
 * A final response the layer sends on its own, §8.2.6: Via(s), From, To with `toTag` added when
 * the request's To has none (§8.2.6.2), Call-ID, CSeq, Content-Length 0.
 */
export function buildLocalFinal(req: TxnRequest, status: number, reason: string, toTag: string): Uint8Array {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const via of viaLines(req)) lines.push(`Via: ${via}`);
  const to = req.to.tag === undefined ? `${req.to.raw};tag=${toTag}` : req.to.raw;
  lines.push(`From: ${req.from.raw}`, `To: ${to}`, `Call-ID: ${req.callId}`, `CSeq: ${req.cseq.seq} ${req.cseq.method}`, 'Content-Length: 0');
  return encoder.encode(lines.join(CRLF) + CRLF + CRLF);
}

/**
 * ACK for a non-2xx final response, §17.1.1.3: Request-URI, Call-ID, From and CSeq number of
 * the INVITE (method ACK), To of the response, the INVITE's top Via only, its Route headers,
 * Max-Forwards 70, no body.
 */
export function buildNon2xxAck(invite: TxnRequest, response: TxnResponse): Uint8Array {
  const top = invite.topVia;
  const lines = [`ACK ${invite.uri} SIP/2.0`];
  if (top !== undefined) lines.push(`Via: ${top.raw}`);
  for (const route of invite.getHeaders('Route')) lines.push(`Route: ${route}`);
  lines.push(
    'Max-Forwards: 70',
    `From: ${invite.from.raw}`,
    `To: ${response.to.raw}`,
    `Call-ID: ${invite.callId}`,
    `CSeq: ${invite.cseq.seq} ACK`,
    'Content-Length: 0',
  );
  return encoder.encode(lines.join(CRLF) + CRLF + CRLF);
}
