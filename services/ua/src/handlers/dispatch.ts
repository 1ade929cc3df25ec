/**
 * One request envelope from `<p>.req.<METHOD>`: decode, parse the raw SIP, run the checks every
 * request passes, and hand it to its method handler. KV or NATS trouble gives 503 with
 * Retry-After; a bug gives 500; neither stops the service.
 */
import { decodeJson, fromBase64, RequestEnvelope } from '@sipnats/contracts';
import { parseMessage, type SipRequest } from '@sipnats/sip-codec';
import { isUnavailable } from '../errors.js';
import { randomToken } from '../ports.js';
import { respond } from '../response.js';
import type { RequestOrigin, UaContext } from './context.js';
import { handleInDialog } from './in-dialog.js';
import { handleInvite } from './invite.js';
import { handleRegister } from './register.js';
import { sendResponse } from './send.js';
import { checkRequest, optionsResponse } from './validate.js';

/** Decodes an envelope; undefined (logged) when it is not one. */
export function decodeEnvelope(ctx: UaContext, data: Uint8Array): RequestEnvelope | undefined {
  const r = decodeJson(RequestEnvelope, data);
  if (r.ok) return r.value;
  ctx.log.warn({ problems: r.errors }, 'invalid request envelope dropped');
  ctx.metrics.requests.inc({ method: 'invalid', status: 'none' });
  return undefined;
}

function parseRequest(ctx: UaContext, env: RequestEnvelope): SipRequest | undefined {
  try {
    const m = parseMessage(fromBase64(env.raw));
    if (m.kind === 'request') return m;
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message, callId: env.callId }, 'unparsable request in envelope dropped');
  }
  return undefined;
}

/** 503 with Retry-After to a request (never to ACK). */
export function serviceUnavailable(ctx: UaContext, env: RequestEnvelope, reason: string): void {
  if (env.method === 'ACK' || env.txn === undefined) return;
  const req = parseRequest(ctx, env);
  if (req === undefined) return;
  ctx.metrics.shed.inc({ reason });
  try {
    sendResponse(ctx, env.instance, env.txn, env.method, respond(req, 503, { toTag: randomToken(ctx.random), headers: [['Retry-After', String(ctx.policy.retryAfter)]] }));
  } catch (err) {
    ctx.log.warn({ err }, '503 not sent');
  }
}

/**
 * A request that starts something or stands alone (no To tag; not ACK or CANCEL): the kind that
 * may be refused with 503 when it waited too long for a slot. In-dialog requests are always
 * handled: they end or change calls that exist, and an ACK has no answer to carry a 503.
 */
export function outsideDialog(env: RequestEnvelope): boolean {
  return env.to.tag === undefined && env.method !== 'ACK' && env.method !== 'CANCEL';
}

export async function handleEnvelope(ctx: UaContext, env: RequestEnvelope, o: { readonly refuseUnlessHeld?: 'wait' | 'stale' } = {}): Promise<void> {
  const req = parseRequest(ctx, env);
  if (req === undefined) return;
  const origin: RequestOrigin = { instance: env.instance, txn: env.txn, flow: env.flow, ...(o.refuseUnlessHeld === undefined ? {} : { refuseUnlessHeld: o.refuseUnlessHeld }) };
  const toTag = randomToken(ctx.random);
  const method = req.method;
  try {
    let refusal;
    try {
      refusal = checkRequest(req, toTag);
    } catch (err) {
      ctx.log.debug({ err: (err as Error).message }, 'bad header in request');
      if (method !== 'ACK') sendResponse(ctx, origin.instance, origin.txn, method, respond(req, 400, { toTag, reason: 'Bad Header' }));
      return;
    }
    if (refusal !== undefined) {
      sendResponse(ctx, origin.instance, origin.txn, method, refusal);
      return;
    }
    const inDialog = req.to.tag !== undefined || method === 'ACK' || method === 'CANCEL';
    if (method === 'REGISTER') await handleRegister(ctx, req, origin, toTag);
    else if (inDialog) await handleInDialog(ctx, req, origin);
    else if (method === 'OPTIONS') sendResponse(ctx, origin.instance, origin.txn, method, optionsResponse(req, toTag));
    else if (method === 'INVITE') await handleInvite(ctx, req, origin, toTag);
    // RFC 3515 §2.4.2 lets a REFER start a dialog of its own: this ua transfers only within calls.
    else if (method === 'REFER') sendResponse(ctx, origin.instance, origin.txn, method, respond(req, 403, { toTag, reason: 'Out-Of-Dialog REFER Not Supported' }));
    // BYE, PRACK, UPDATE, INFO, NOTIFY without a To tag cannot belong to a dialog (§12.2.2, RFC 6665 §4.1.3).
    else sendResponse(ctx, origin.instance, origin.txn, method, respond(req, 481, { toTag }));
  } catch (err) {
    if (isUnavailable(err)) {
      ctx.log.warn({ err: (err as Error).message, method }, 'store unavailable: 503');
      serviceUnavailable(ctx, env, 'store');
      return;
    }
    ctx.log.error({ err, method, callId: req.callId }, 'request failed');
    if (method !== 'ACK') {
      try {
        sendResponse(ctx, origin.instance, origin.txn, method, respond(req, 500, { toTag }));
      } catch (sendErr) {
        ctx.log.error({ err: sendErr }, '500 not sent');
      }
    }
  }
}
