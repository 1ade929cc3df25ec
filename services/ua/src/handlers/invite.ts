/**
 * A new inbound INVITE (no To tag): the core accepts it as a dialog in phase `offered` or refuses
 * it; an accepted call is indexed by Call-ID and the caller's tag (another INVITE with the same
 * pair and CSeq is a merged request, 482; see redelivery.ts), stored in KV, and offered to
 * controllers (`offer` event with the X- headers). The no-answer timer is part of the stored
 * entry, so any instance can fire it.
 */
import type { SipRequest } from '@sipnats/sip-codec';
import { retryAfter0to10 } from '../dialog/in-dialog.js';
import { acceptInvite } from '../dialog/uas-invite.js';
import { randomToken } from '../ports.js';
import { respond } from '../response.js';
import { CALL_ENTRY_VERSION, type CallEntry } from '../store/call-store.js';
import { autoBridge, planBridge } from './bridge.js';
import { createCall } from './call-runner.js';
import { repeatedInvite } from './redelivery.js';
import { localContact } from './contact.js';
import type { RequestOrigin, UaContext } from './context.js';
import { xHeaders } from './events.js';
import { sendResponse } from './send.js';

export async function handleInvite(ctx: UaContext, req: SipRequest, origin: RequestOrigin, toTag: string, adopted?: string): Promise<void> {
  if (origin.txn === undefined) {
    ctx.log.warn({ callId: req.callId }, 'INVITE without a server transaction id: dropped');
    return;
  }
  const now = ctx.clock();
  const call = adopted ?? randomToken(ctx.random, 12);
  const acceptance = acceptInvite(ctx.dialog, {
    call,
    request: req,
    txn: origin.txn,
    localTag: toTag,
    localContact: localContact(origin),
    now,
  });
  if (acceptance.kind === 'rejected') {
    sendResponse(ctx, origin.instance, origin.txn, 'INVITE', acceptance.response);
    return;
  }
  const t = acceptance.transition;
  const record = t.record;
  if (record === undefined) return;
  const peerTag = req.from.tag ?? '';
  const headers = xHeaders(req.headers());
  // Read (and checked: 0 got 483) by checkRequest before the INVITE got here.
  const maxForwards = req.maxForwards;
  const entry: CallEntry = {
    v: CALL_ENTRY_VERSION,
    dialog: record,
    flow: origin.flow,
    inviteInstance: origin.instance,
    peerInstance: origin.instance,
    ...(headers === undefined ? {} : { headers }),
    ...(maxForwards === undefined ? {} : { maxForwards }),
    timers: {},
  };
  const refusal = origin.refuseUnlessHeld;
  if (adopted === undefined && refusal !== undefined && (await ctx.calls.findByDialog(req.callId, peerTag, true)) === undefined) {
    ctx.metrics.shed.inc({ reason: refusal });
    sendResponse(ctx, origin.instance, origin.txn, 'INVITE', respond(req, 503, { toTag, headers: [['Retry-After', String(ctx.policy.retryAfter)]] }));
    return;
  }
  // SIPNATS_ROUTING=bridge: the bridge is planned now (its registrar lookup while the index is
  // claimed), so its state is part of the entry's first write.
  const planned = ctx.autoBridge === true ? planBridge(ctx, { v: 1, action: 'bridge', call }, entry) : undefined;
  planned?.catch(() => undefined); // awaited below unless the INVITE turns out to be a repeat
  if (adopted === undefined && !(await ctx.calls.claimIndex(req.callId, peerTag, call))) {
    // The same INVITE delivered again (redelivery.ts), §8.2.2.2: same Call-ID, From tag and CSeq
    // as a call's INVITE, on another transaction; or a new INVITE of that Call-ID and From tag.
    const repeated = await repeatedInvite(ctx, req, origin, call);
    if (repeated.kind === 'adopt') return handleInvite(ctx, req, origin, toTag, repeated.call);
    if (repeated.kind === 'repeated') return;
    if (repeated.kind === 'merged') {
      sendResponse(ctx, origin.instance, origin.txn, 'INVITE', respond(req, 482, { toTag }));
      return;
    }
    if (repeated.kind === 'busy') {
      // As §14.2 for an INVITE while another is unanswered.
      sendResponse(ctx, origin.instance, origin.txn, 'INVITE', respond(req, 500, { toTag, headers: [['Retry-After', String(retryAfter0to10())]] }));
      return;
    }
  }
  const plan = await planned;
  const created = await createCall(ctx, plan?.kind === 'legs' ? { ...entry, bridge: plan.state } : entry, t, { origin, method: 'INVITE' });
  if (created === undefined) {
    // An adopted call created meanwhile by the delivery that claimed its index: that one answers.
    if (adopted !== undefined) return;
    sendResponse(ctx, origin.instance, origin.txn, 'INVITE', respond(req, 500, { toTag, reason: 'Call Id Collision' }));
    return;
  }
  // Per call: debug, not info (the `offer` event and the metrics record every call).
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ call, callId: req.callId, from: req.from.uri.raw, to: req.to.uri.raw }, 'call offered');
  if (plan !== undefined) void autoBridge(ctx, call, plan).catch((err: unknown) => ctx.log.warn({ err, call }, 'automatic bridge failed'));
}

