/**
 * What the JSON envelopes can carry, checked before they are built. The codec accepts header
 * lines up to SIP_MAX_LINE_BYTES (8 KiB by default) while the envelopes bound their strings
 * (`LIMITS` of @sipnats/contracts: URI 4096, Call-ID and branch 512, display name 1024, tag and
 * method 256). A request that does not fit is answered here (414 for the Request-URI, 400 for the
 * rest) instead of being published; a response that does not fit is replaced, for the requester,
 * by a local error response. With these checks the envelope builders always produce a valid
 * envelope, so the hot path can skip the schema check (see test/envelopes.test.ts).
 */
import { LIMITS } from '@sipnats/contracts';
import { uriTextOf, type NameAddr, type SipRequest, type SipResponse } from '@sipnats/sip-codec';

/** Why a message cannot be put into an envelope, and the status a request gets for it. */
export interface EnvelopeFault {
  readonly status: 400 | 414;
  readonly reason: string;
  /** Which field, for logs and the `error` of a local response. */
  readonly detail: string;
}

export const MAX_CSEQ = 2 ** 32 - 1;
/** RFC 3261 `token`, the pattern of SipToken in the schemas. */
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

function tooLong(field: string, max: number): EnvelopeFault {
  return { status: 400, reason: 'Bad Request', detail: `${field} longer than ${max} characters` };
}

function tokenFault(field: string, value: string): EnvelopeFault | undefined {
  if (value.length > LIMITS.token) return tooLong(field, LIMITS.token);
  if (!TOKEN.test(value)) return { status: 400, reason: 'Bad Request', detail: `${field} is not a token` };
  return undefined;
}

function idFault(field: string, value: string): EnvelopeFault | undefined {
  if (value.length === 0) return { status: 400, reason: 'Bad Request', detail: `empty ${field}` };
  return value.length > LIMITS.id ? tooLong(field, LIMITS.id) : undefined;
}

function nameAddrFault(field: string, n: NameAddr): EnvelopeFault | undefined {
  const uri = uriTextOf(n);
  if (uri.length === 0) return { status: 400, reason: 'Bad Request', detail: `empty ${field} URI` };
  if (uri.length > LIMITS.uri) return tooLong(`${field} URI`, LIMITS.uri);
  const display = n.displayName;
  if (display !== undefined && display.length > LIMITS.text) return tooLong(`${field} display name`, LIMITS.text);
  if (n.tag !== undefined) {
    if (n.tag.length === 0) return { status: 400, reason: 'Bad Request', detail: `empty ${field} tag` };
    if (n.tag.length > LIMITS.token) return tooLong(`${field} tag`, LIMITS.token);
  }
  return undefined;
}

function cseqFault(seq: number, method: string): EnvelopeFault | undefined {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_CSEQ) return { status: 400, reason: 'Bad Request', detail: 'CSeq number out of range' };
  return tokenFault('CSeq method', method);
}

/** undefined when `requestEnvelope` can carry `req`; otherwise the answer it gets instead. */
export function requestEnvelopeFault(req: SipRequest): EnvelopeFault | undefined {
  if (req.uri.length === 0) return { status: 400, reason: 'Bad Request', detail: 'empty Request-URI' };
  if (req.uri.length > LIMITS.uri) return { status: 414, reason: 'Request-URI Too Long', detail: `Request-URI longer than ${LIMITS.uri} characters` };
  const branch = req.topVia.branch;
  return (
    tokenFault('method', req.method) ??
    idFault('Call-ID', req.callId) ??
    cseqFault(req.cseq.seq, req.cseq.method) ??
    nameAddrFault('From', req.from) ??
    nameAddrFault('To', req.to) ??
    (branch !== undefined && branch.length > LIMITS.id ? tooLong('Via branch', LIMITS.id) : undefined)
  );
}

/** undefined when `responseEnvelope` can carry `res`; otherwise what is wrong with it. */
export function responseEnvelopeFault(res: SipResponse): EnvelopeFault | undefined {
  if (!Number.isInteger(res.status) || res.status < 100 || res.status > 699) return { status: 400, reason: 'Bad Request', detail: 'status out of range' };
  const tag = res.to.tag;
  return (
    idFault('Call-ID', res.callId) ??
    cseqFault(res.cseq.seq, res.cseq.method) ??
    (tag === undefined ? undefined : tag.length === 0 ? { status: 400, reason: 'Bad Request', detail: 'empty To tag' } : tag.length > LIMITS.token ? tooLong('To tag', LIMITS.token) : undefined)
  );
}

/** `s` cut to at most `max` UTF-16 units (a local envelope never fails on a long value). */
export function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}
