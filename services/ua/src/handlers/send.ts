/**
 * Sending on behalf of handlers: responses on a server transaction through `<p>.out.<instance>`,
 * counted by method and status.
 */
import { encodeJson, OutMessage, toBase64 } from '@sipnats/contracts';
import type { ResponseSpec } from '../sip-view.js';
import type { UaContext } from './context.js';
import { encodeResponse } from './sip-encode.js';

export interface SendResponseOptions {
  /** A 2xx to INVITE: the transport retransmits it until the ACK. */
  readonly retransmit2xx?: boolean;
}

export function sendResponse(ctx: UaContext, instance: string, txn: string | undefined, method: string, spec: ResponseSpec, o: SendResponseOptions = {}): void {
  const raw = encodeResponse(spec, [['Server', ctx.policy.userAgent]]);
  const out: OutMessage = {
    v: 1,
    kind: 'response',
    raw: toBase64(raw),
    ...(txn === undefined ? {} : { txn }),
    ...(o.retransmit2xx === true ? { retransmit2xx: true } : {}),
  };
  ctx.messaging.publish(ctx.subjects.out(instance), encodeJson(OutMessage, out));
  if (spec.status >= 200) ctx.metrics.requests.inc({ method: metricMethod(method), status: String(spec.status) });
}

const KNOWN = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'INFO', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);

/** Methods as metric labels: known ones as they are, the rest as `other` (bounded cardinality). */
export function metricMethod(method: string): string {
  return KNOWN.has(method) ? method : 'other';
}
