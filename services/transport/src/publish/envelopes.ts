/**
 * Builds the payloads and NATS headers the transport publishes (see proto/README.md). The
 * builders produce envelopes that match their schemas for every input that passed
 * `requestEnvelopeFault` / `responseEnvelopeFault` (envelope-limits.ts), and local envelopes
 * for any input (long values are clipped), so they are serialised with `encodeJsonTrusted`
 * (test/envelopes.test.ts proves it on edge cases).
 */
import { ENVELOPE_VERSION, LIMITS, toBase64, type FlowCloseReason, type FlowEvent, type FlowRef, type RequestEnvelope, type ResponseEnvelope } from '@sipnats/contracts';
import { uriTextOf, type SipRequest, type SipResponse, type NameAddr } from '@sipnats/sip-codec';
import { formatHostPort } from '../listeners/address.js';
import type { Flow } from '../listeners/flow.js';
import { MAX_CSEQ, clip } from './envelope-limits.js';

export function flowRef(instance: string, flow: Flow, token?: string): FlowRef {
  const ref: FlowRef = {
    instance,
    transport: flow.transport,
    local: formatHostPort(flow.local),
    remote: formatHostPort(flow.remote),
    id: flow.id,
  };
  return token === undefined ? ref : { ...ref, token };
}

function nameAddr(n: NameAddr): RequestEnvelope['from'] {
  const out: { uri: string; display?: string; tag?: string } = { uri: uriTextOf(n) };
  if (n.displayName !== undefined) out.display = n.displayName;
  if (n.tag !== undefined) out.tag = n.tag;
  return out;
}

/** The top Via branch, `-` for an RFC 2543 peer without one (the field is required). */
function branchOf(r: SipRequest): string {
  const b = r.topVia.branch;
  return b === undefined || b === '' ? '-' : b;
}

export interface RequestEnvelopeInput {
  readonly instance: string;
  readonly flow: FlowRef;
  readonly txn: string | undefined;
  readonly cancels: string | undefined;
  readonly receivedAt: number;
  readonly request: SipRequest;
  readonly raw: Uint8Array;
}

export function requestEnvelope(i: RequestEnvelopeInput): RequestEnvelope {
  const r = i.request;
  const env: RequestEnvelope = {
    v: ENVELOPE_VERSION,
    instance: i.instance,
    flow: i.flow,
    receivedAt: i.receivedAt,
    method: r.method,
    uri: r.uri,
    callId: r.callId,
    cseq: { seq: r.cseq.seq, method: r.cseq.method },
    from: nameAddr(r.from),
    to: nameAddr(r.to),
    branch: branchOf(r),
    raw: toBase64(i.raw),
  };
  if (i.txn !== undefined) env.txn = i.txn;
  if (i.cancels !== undefined) env.cancels = i.cancels;
  return env;
}

/** JSON text of a value that JSON.stringify turns into a string (the quotes and escapes it writes). */
const json = JSON.stringify as (value: string) => string;

/**
 * `{"v":1,"instance":...,"flow":{...},"receivedAt":` as UTF-8, kept per FlowRef: the refs of
 * inbound.ts are made once per flow and never change (nor does the instance of a process).
 */
const headCache = new WeakMap<FlowRef, { readonly instance: string; readonly bytes: Buffer }>();

function envelopeHead(instance: string, ref: FlowRef): Buffer {
  const cached = headCache.get(ref);
  if (cached !== undefined && cached.instance === instance) return cached.bytes;
  const bytes = Buffer.from(`{"v":${ENVELOPE_VERSION},"instance":${json(instance)},"flow":${JSON.stringify(ref)},"receivedAt":`, 'utf8');
  headCache.set(ref, { instance, bytes });
  return bytes;
}

function nameAddrJson(n: NameAddr): string {
  let text = `{"uri":${json(uriTextOf(n))}`;
  const display = n.displayName;
  if (display !== undefined) text += `,"display":${json(display)}`;
  if (n.tag !== undefined) text += `,"tag":${json(n.tag)}`;
  return `${text}}`;
}

/**
 * The request envelope as UTF-8 JSON: the same bytes as encodeJsonTrusted(RequestEnvelope,
 * requestEnvelope(i)) (test/envelopes.test.ts), written field by field instead of building the
 * object and walking it again (one request envelope per request: the largest payload the
 * transport publishes). Strings from the wire go through JSON.stringify one by one, so that they
 * are escaped exactly as in the whole-object form; numbers are integers.
 */
export function encodeRequestEnvelope(i: RequestEnvelopeInput): Buffer {
  const r = i.request;
  const cseq = r.cseq;
  const mid =
    `${i.receivedAt},"method":${json(r.method)},"uri":${json(r.uri)},"callId":${json(r.callId)},"cseq":{"seq":${cseq.seq},"method":${json(cseq.method)}}` +
    `,"from":${nameAddrJson(r.from)},"to":${nameAddrJson(r.to)},"branch":${json(branchOf(r))},"raw":"`;
  let tail = '"';
  if (i.txn !== undefined) tail += `,"txn":${json(i.txn)}`;
  if (i.cancels !== undefined) tail += `,"cancels":${json(i.cancels)}`;
  tail += '}';
  // Written piece by piece into one buffer: the head is kept per flow, and the text of the whole
  // envelope (1 KB and more) is never made.
  const head = envelopeHead(i.instance, i.flow);
  const raw = toBase64(i.raw);
  const out = Buffer.allocUnsafe(head.length + Buffer.byteLength(mid, 'utf8') + raw.length + Buffer.byteLength(tail, 'utf8'));
  head.copy(out, 0);
  let at = head.length;
  at += out.write(mid, at, 'utf8');
  at += out.write(raw, at, 'latin1');
  out.write(tail, at, 'utf8');
  return out;
}

/**
 * A request envelope's JSON (from encodeRequestEnvelope) with `attempt` added: the same bytes as
 * JSON.stringify({ ...envelope, attempt }) for an envelope without one (inbound/republish.ts).
 */
export function withAttempt(envelope: Uint8Array, attempt: number): Buffer {
  const tail = Buffer.from(`,"attempt":${attempt}}`, 'latin1');
  const out = Buffer.allocUnsafe(envelope.length - 1 + tail.length);
  out.set(envelope.subarray(0, envelope.length - 1), 0);
  out.set(tail, envelope.length - 1);
  return out;
}

export interface ResponseEnvelopeInput {
  readonly instance: string;
  readonly txn: string;
  readonly response: SipResponse;
  readonly raw: Uint8Array;
  readonly flow: FlowRef | undefined;
}

export function responseEnvelope(i: ResponseEnvelopeInput): ResponseEnvelope {
  const r = i.response;
  const env: ResponseEnvelope = {
    v: ENVELOPE_VERSION,
    instance: i.instance,
    txn: i.txn,
    status: r.status,
    reason: clip(r.reason, LIMITS.text),
    callId: r.callId,
    cseq: { seq: r.cseq.seq, method: r.cseq.method },
    raw: toBase64(i.raw),
  };
  if (r.to.tag !== undefined) env.toTag = r.to.tag;
  if (i.flow !== undefined) env.flow = i.flow;
  return env;
}

/** A response the transport makes up for a client transaction (408 timeout, 503 send failure). */
export function localResponseEnvelope(
  instance: string,
  txn: string,
  request: SipRequest,
  status: number,
  reason: string,
  extra: { timeout?: true; error?: string },
): ResponseEnvelope {
  const env: ResponseEnvelope = {
    v: ENVELOPE_VERSION,
    instance,
    txn,
    status,
    reason: clip(reason, LIMITS.text),
    // The requester correlates by its reply subject; a Call-ID or method the envelope cannot
    // carry whole is clipped so that the requester still gets its answer.
    callId: request.callId === '' ? '-' : clip(request.callId, LIMITS.id),
    cseq: { seq: Math.min(Math.max(0, Math.trunc(request.cseq.seq) || 0), MAX_CSEQ), method: request.cseq.method === '' ? 'UNKNOWN' : clip(request.cseq.method, LIMITS.token) },
  };
  if (extra.timeout === true) env.timeout = true;
  if (extra.error !== undefined) env.error = clip(extra.error, LIMITS.text);
  return env;
}

/** `<p>.evt.flow.closed`: a connection of this instance is gone (valid for any flow and detail: the detail is clipped). */
export function flowClosedEvent(instance: string, flow: Flow, reason: FlowCloseReason, detail: string, at: number): FlowEvent {
  const ev: FlowEvent = { v: ENVELOPE_VERSION, event: 'closed', flow: flowRef(instance, flow), reason, at };
  const text = clip(detail.replace(/[\r\n\0]/g, ' '), LIMITS.text);
  if (text !== '') ev.detail = text;
  return ev;
}
