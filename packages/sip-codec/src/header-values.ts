/**
 * Parsers of single structured header values read by the message accessors: CSeq, Max-Forwards,
 * RAck (RFC 3262), Session-Expires and Min-SE (RFC 4028). Each throws SipParseError on bad input.
 */
import { SipErrorCode } from './errors.js';
import { fail, isToken, isTokenChar, MAX_UINT32, parseDeltaSeconds, parseDigits, parseParams, skipWsp } from './scan.js';
import type { CSeq, RAck, SessionExpires } from './types.js';

/** CSeq = 1*DIGIT LWS Method, the number below 2^32 (RFC 3261 §20.16). */
export function parseCSeq(v: string): CSeq {
  const n = v.length;
  let i = skipWsp(v, 0, n);
  const ds = i;
  while (i < n && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39) i++;
  const seq = parseDigits(v, ds, i);
  if (seq === undefined || seq > MAX_UINT32) fail(SipErrorCode.CSEQ, `CSeq number missing or above 2^32-1: "${v.slice(0, 48)}"`);
  const ms = skipWsp(v, i, n);
  if (ms === i) fail(SipErrorCode.CSEQ, 'CSeq: expected LWS after the number');
  let e = ms;
  while (e < n && isTokenChar(v.charCodeAt(e))) e++;
  if (e === ms || skipWsp(v, e, n) !== n) fail(SipErrorCode.CSEQ, `CSeq method is not a token: "${v.slice(0, 48)}"`);
  return { seq, method: v.slice(ms, e) };
}

/** Max-Forwards = 1*DIGIT, 0..255. */
export function parseMaxForwards(v: string): number {
  const t = v.trim();
  const n = parseDigits(t);
  if (n === undefined || n > 255) fail(SipErrorCode.MAX_FORWARDS, `Max-Forwards not in 0..255: "${t.slice(0, 32)}"`);
  return n;
}

/** RAck = response-num LWS CSeq-num LWS Method (RFC 3262 §7.2), both numbers below 2^32. */
export function parseRAck(v: string): RAck {
  const parts = v.trim().split(/[ \t]+/);
  const rseq = parts.length === 3 ? parseDigits(parts[0] ?? '') : undefined;
  const cseq = parts.length === 3 ? parseDigits(parts[1] ?? '') : undefined;
  const method = parts[2] ?? '';
  if (rseq === undefined || cseq === undefined || rseq > MAX_UINT32 || cseq > MAX_UINT32 || !isToken(method)) {
    fail(SipErrorCode.HEADER_VALUE, `RAck: malformed "${v.slice(0, 48)}"`);
  }
  return { rseq, cseq, method };
}

/** Session-Expires = delta-seconds *(SEMI se-params) (RFC 4028 §4). */
export function parseSessionExpires(v: string): SessionExpires {
  const semi = v.indexOf(';');
  const delta = parseDeltaSeconds(semi < 0 ? v : v.slice(0, semi), SipErrorCode.HEADER_VALUE, 'Session-Expires');
  const params = semi < 0 ? new Map<string, string | null>() : parseParams(v, semi, v.length, SipErrorCode.HEADER_VALUE);
  return { delta, refresher: params.get('refresher') ?? undefined, params };
}

/** Min-SE = delta-seconds *(SEMI generic-param) (RFC 4028 §5); the parameters are not kept. */
export function parseMinSE(v: string): number {
  const semi = v.indexOf(';');
  return parseDeltaSeconds(semi < 0 ? v : v.slice(0, semi), SipErrorCode.HEADER_VALUE, 'Min-SE');
}
