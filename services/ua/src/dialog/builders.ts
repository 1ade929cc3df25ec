/**
 * Message builders for a dialog: responses to the INVITE (and to any request), in-dialog requests
 * (RFC 3261 §12.2.1.1), and the Transition accumulator used by the state machine.
 */
import { buildResponse } from '../response.js';
import type { RequestHeadersSnapshot } from '../response.js';
import type { BodySpec, Header, RequestSpec, ResponseSpec } from '../sip-view.js';
import { DEFAULT_ALLOW, SUPPORTED } from './types.js';
import type { DialogConfig, DialogEvent, DialogRecord, OutResponse, ResponseTarget, TimerName, TimerSpec, Transition } from './types.js';

export const SDP = 'application/sdp';

export function sdpBody(sdp: string | undefined): { body: BodySpec } | Record<string, never> {
  return sdp === undefined ? {} : { body: { contentType: SDP, content: sdp } };
}

export function allowHeader(config: DialogConfig): Header {
  return ['Allow', (config.allow ?? DEFAULT_ALLOW).join(', ')];
}

/** A response to the initial INVITE: Record-Route and Contact for dialog-creating responses. */
export function inviteResponse(
  record: DialogRecord,
  config: DialogConfig,
  status: number,
  options: { reason?: string; headers?: readonly Header[]; sdp?: string | undefined } = {},
): ResponseSpec {
  const dialogCreating = status > 100 && status < 300;
  const headers: Header[] = [];
  if (dialogCreating) {
    for (const rr of record.invite.recordRoute) headers.push(['Record-Route', rr]);
    headers.push(['Contact', `<${record.localTarget}>`]);
    headers.push(allowHeader(config));
    headers.push(['Supported', SUPPORTED.join(', ')]);
  }
  headers.push(...(options.headers ?? []));
  return buildResponse(record.invite.request, status, {
    toTag: record.localTag,
    headers,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    ...sdpBody(options.sdp),
  });
}

/** A response to an in-dialog request (or to the CANCEL). */
export function requestResponse(
  request: RequestHeadersSnapshot,
  record: DialogRecord | undefined,
  status: number,
  options: { reason?: string; headers?: readonly Header[]; sdp?: string | undefined } = {},
): ResponseSpec {
  return buildResponse(request, status, {
    ...(record === undefined ? {} : { toTag: record.localTag }),
    headers: options.headers ?? [],
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    ...sdpBody(options.sdp),
  });
}

/** In-dialog requests that carry our Contact (target refreshes, RFC 3515 REFER, RFC 6665 NOTIFY). */
const TARGET_METHODS = new Set(['INVITE', 'UPDATE', 'REFER', 'NOTIFY']);

/** An in-dialog request (§12.2.1.1); `cseq` undefined takes the next local CSeq. */
export function inDialogRequest(
  record: DialogRecord,
  method: string,
  cseq: number,
  options: { headers?: readonly Header[]; body?: BodySpec } = {},
): RequestSpec {
  let requestUri = record.remoteTarget;
  let routes = [...record.routeSet];
  const first = routes[0];
  if (first !== undefined && !/;\s*lr(?=[;>=\s]|$)/i.test(first)) {
    // §12.2.1.1 strict routing: the first route becomes the Request-URI, the target goes last.
    requestUri = first.replace(/^.*<([^>]*)>.*$/, '$1');
    routes = [...routes.slice(1), `<${record.remoteTarget}>`];
  }
  const headers: Header[] = [
    ['From', record.localUri],
    ['To', record.remoteUri],
    ['Call-ID', record.callId],
    ['CSeq', `${cseq} ${method}`],
    ['Max-Forwards', '70'],
    ...routes.map((r): Header => ['Route', r]),
  ];
  if (TARGET_METHODS.has(method)) headers.push(['Contact', `<${record.localTarget}>`]);
  headers.push(...(options.headers ?? []));
  return { method, requestUri, headers, ...(options.body === undefined ? {} : { body: options.body }) };
}

/** Collects the outputs of one transition. */
export class Out {
  record: DialogRecord | undefined;
  changed = false;
  readonly responses: OutResponse[] = [];
  readonly requests: RequestSpec[] = [];
  readonly events: DialogEvent[] = [];
  readonly timers: TimerSpec[] = [];
  readonly cancelTimers: TimerName[] = [];

  constructor(record: DialogRecord | undefined) {
    this.record = record;
  }

  /** Replaces fields of the record (marks it changed). */
  set(patch: Partial<DialogRecord>, now: number): DialogRecord {
    if (this.record === undefined) throw new TypeError('no dialog record to update');
    this.record = { ...this.record, ...patch, updatedAt: now };
    this.changed = true;
    return this.record;
  }

  get rec(): DialogRecord {
    if (this.record === undefined) throw new TypeError('no dialog record');
    return this.record;
  }

  respond(target: ResponseTarget, response: ResponseSpec): void {
    this.responses.push({ target, response });
  }

  arm(name: TimerName, at: number): void {
    this.timers.push({ name, at });
  }

  cancel(...names: TimerName[]): void {
    this.cancelTimers.push(...names);
  }

  done(): Transition {
    return {
      record: this.record,
      changed: this.changed,
      responses: this.responses,
      requests: this.requests,
      events: this.events,
      timers: this.timers,
      cancelTimers: this.cancelTimers,
    };
  }
}

export function t1(config: DialogConfig): number {
  return config.t1 ?? 500;
}

export function t2(config: DialogConfig): number {
  return config.t2 ?? 4000;
}
