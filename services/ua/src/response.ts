/**
 * Builds response specs from a request view (RFC 3261 §8.2.6.2): Via values, From, To (with the
 * UAS tag added when the request had none), Call-ID and CSeq copied, then extra headers.
 */
import type { BodySpec, Header, RequestView, ResponseSpec } from './sip-view.js';
import { reasonPhrase } from './sip-view.js';

/** The request headers a response copies; serializable so a response can be built later. */
export interface RequestHeadersSnapshot {
  readonly vias: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly toHasTag: boolean;
  readonly callId: string;
  readonly cseq: string;
}

export function snapshotRequest(request: Pick<RequestView, 'via' | 'from' | 'to' | 'callId' | 'cseq'>): RequestHeadersSnapshot {
  return {
    vias: request.via.map((v) => v.raw),
    from: request.from.raw,
    to: request.to.raw,
    toHasTag: request.to.tag !== undefined,
    callId: request.callId,
    cseq: `${request.cseq.seq} ${request.cseq.method}`,
  };
}

export interface ResponseOptions {
  readonly reason?: string;
  /** Added to To when the request's To had no tag (a UAS must add one, §8.2.6.2). */
  readonly toTag?: string;
  readonly headers?: readonly Header[];
  readonly body?: BodySpec;
}

export function buildResponse(request: RequestHeadersSnapshot, status: number, options: ResponseOptions = {}): ResponseSpec {
  const to = request.toHasTag || options.toTag === undefined || status === 100 ? request.to : `${request.to};tag=${options.toTag}`;
  const headers: Header[] = [
    ...request.vias.map((v): Header => ['Via', v]),
    ['From', request.from],
    ['To', to],
    ['Call-ID', request.callId],
    ['CSeq', request.cseq],
    ...(options.headers ?? []),
  ];
  return {
    status,
    reason: options.reason ?? reasonPhrase(status),
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  };
}

/** Builds a response straight from a request view. */
export function respond(request: Pick<RequestView, 'via' | 'from' | 'to' | 'callId' | 'cseq'>, status: number, options: ResponseOptions = {}): ResponseSpec {
  return buildResponse(snapshotRequest(request), status, options);
}
