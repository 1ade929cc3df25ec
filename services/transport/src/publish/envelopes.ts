/** Builds the payloads and NATS headers the transport publishes (see proto/README.md). */
import { ENVELOPE_VERSION, RAW_HEADERS, encodeToken, toBase64, type FlowRef, type RequestEnvelope, type ResponseEnvelope } from '@sipnats/contracts';
import type { SipRequest, SipResponse, NameAddr } from '@sipnats/sip-codec';
import { formatHostPort } from '../listeners/address.js';
import type { Flow } from '../listeners/flow.js';

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

/** NATS headers of a raw copy (raw.in / raw.out / fwd). */
export function rawHeaders(instance: string, flow: Pick<Flow, 'transport' | 'local' | 'remote' | 'id'>, at: number): Record<string, string> {
  return {
    [RAW_HEADERS.transport]: flow.transport,
    [RAW_HEADERS.local]: formatHostPort(flow.local),
    [RAW_HEADERS.remote]: formatHostPort(flow.remote),
    [RAW_HEADERS.flow]: flow.id,
    [RAW_HEADERS.time]: String(at),
    [RAW_HEADERS.instance]: encodeToken(instance),
  };
}

function nameAddr(n: NameAddr): RequestEnvelope['from'] {
  const out: { uri: string; display?: string; tag?: string } = { uri: n.uri.raw };
  if (n.displayName !== undefined) out.display = n.displayName;
  if (n.tag !== undefined) out.tag = n.tag;
  return out;
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
    branch: r.topVia.branch ?? '-',
    raw: toBase64(i.raw),
  };
  if (i.txn !== undefined) env.txn = i.txn;
  if (i.cancels !== undefined) env.cancels = i.cancels;
  return env;
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
    reason: r.reason.slice(0, 1024),
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
    reason,
    callId: request.callId,
    cseq: { seq: request.cseq.seq, method: request.cseq.method },
  };
  if (extra.timeout === true) env.timeout = true;
  if (extra.error !== undefined) env.error = extra.error.slice(0, 1024);
  return env;
}
