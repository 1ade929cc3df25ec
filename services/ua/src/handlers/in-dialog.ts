/**
 * Requests for an existing call (ACK, CANCEL, BYE, PRACK, re-INVITE, UPDATE, INFO, in-dialog
 * OPTIONS), found through the KV index by Call-ID and the peer's tag, so any instance serves
 * them. The core decides; call-runner writes with CAS and performs the outputs. Responses to the
 * requests we send come back here too.
 */
import { fromBase64, type ResponseEnvelope } from '@sipnats/contracts';
import { parseMessage, parseNameAddr } from '@sipnats/sip-codec';
import type { SipRequest, SipResponse } from '@sipnats/sip-codec';
import { handleCommand } from '../dialog/commands.js';
import { handleRequest, handleResponse, unknownDialog } from '../dialog/in-dialog.js';
import type { DialogRecord } from '../dialog/types.js';
import type { ResponseView } from '../sip-view.js';
import type { CallEntry } from '../store/call-store.js';
import { runStep, type StepOptions, type StepOutcome } from './call-runner.js';
import { callOfOutboundCallId } from '../uac/call-id.js';
import { repeatedBye } from './redelivery.js';
import type { RequestOrigin, UaContext } from './context.js';
import { sendResponse } from './send.js';

/**
 * Response callback for requests a call sends: feeds every final response back to the core.
 * `onFinal` is called with it once the core's step is done (its events published), or failed.
 */
export function responseFeeder(ctx: UaContext, onFinal?: (response: ResponseEnvelope) => void): NonNullable<StepOptions['onResponse']> {
  return (call) => (env) => {
    if (env.status < 200) return;
    void feedResponse(ctx, call, env)
      .catch((err: unknown) => ctx.log.warn({ err, call }, 'response to our request not applied'))
      .finally(() => onFinal?.(env));
  };
}

async function feedResponse(ctx: UaContext, call: string, env: ResponseEnvelope): Promise<void> {
  // The answer to the BYE of a call this instance ended changes nothing (handleResponse ignores
  // it): not worth a KV read.
  if (env.cseq.method.toUpperCase() === 'BYE' && ctx.calls.removalTicket(call) !== undefined) return;
  await runStep(
    ctx,
    call,
    (entry) => {
      const view = responseView(env, entry.dialog);
      if (view === undefined) return { kind: 'stop', result: undefined };
      return { kind: 'transition', transition: handleResponse(ctx.dialog, entry.dialog, view, ctx.clock()), result: undefined };
    },
    { onResponse: responseFeeder(ctx) },
  );
}

/** The parsed response, or a synthetic view of a locally generated one (408 on Timer F, 503). */
function responseView(env: ResponseEnvelope, record: DialogRecord): ResponseView | undefined {
  if (env.raw !== undefined) {
    try {
      const m = parseMessage(fromBase64(env.raw));
      return m.kind === 'response' ? (m as SipResponse) : undefined;
    } catch {
      return undefined;
    }
  }
  try {
    return {
      status: env.status,
      reason: env.reason,
      callId: env.callId,
      cseq: env.cseq,
      from: parseNameAddr(record.localUri),
      to: parseNameAddr(record.remoteUri),
      contacts: [],
      recordRoute: [],
      contentType: undefined,
      body: new Uint8Array(0),
      getHeader: () => undefined,
    };
  } catch {
    return undefined;
  }
}

export async function handleInDialog(ctx: UaContext, req: SipRequest, origin: RequestOrigin): Promise<void> {
  const method = req.method;
  const peerTag = req.from.tag;
  const unknown = (): void => {
    // ACK gets nothing; CANCEL was answered by the transport (481 when it matched no INVITE).
    if (method === 'ACK' || method === 'CANCEL') return;
    for (const r of unknownDialog(req).responses) sendResponse(ctx, origin.instance, origin.txn, method, r.response);
  };
  if (peerTag === undefined) {
    unknown();
    return;
  }
  // The call our Call-ID names, else the remembered index; when its call is gone, the index in KV decides.
  let call = (await namedCall(ctx, req.callId, peerTag)) ?? (await ctx.calls.findByDialog(req.callId, peerTag));
  let outcome = call === undefined ? undefined : await stepRequest(ctx, req, origin, call);
  if (outcome === undefined || outcome.kind === 'not-found') {
    const fresh = await ctx.calls.findByDialog(req.callId, peerTag, true);
    if (fresh !== undefined && (outcome === undefined || fresh !== call)) {
      call = fresh;
      outcome = await stepRequest(ctx, req, origin, fresh);
    }
  }
  if (call === undefined || outcome === undefined || outcome.kind === 'not-found') {
    unknown();
    return;
  }
  if (outcome.kind === 'conflict') {
    ctx.log.warn({ call, callId: req.callId, method }, 'call kept changing under this request');
    if (method !== 'ACK' && method !== 'CANCEL') {
      sendResponse(ctx, origin.instance, origin.txn, method, respondBusy(req, ctx.policy.retryAfter));
    }
    return;
  }
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ call, callId: req.callId, method, phase: outcome.entry?.dialog.phase }, 'in-dialog request handled');
  if (method === 'REFER' && outcome.entry !== undefined && isBridged(outcome.entry)) {
    ctx.log.info({ call, callId: req.callId, referTo: req.getHeader('Refer-To')?.slice(0, 256) }, 'REFER on a bridged (B2BUA) call declined with 603: transfers of bridged calls are not supported');
  }
  // Only a step that left an offer of the peer pending has anything to accept (the instance whose
  // write recorded the offer accepts it: no read for every other request).
  const incoming = outcome.entry?.dialog.incoming;
  // A bridged call relays the offer to the other side instead (handlers/bridge.ts).
  const bridged = outcome.entry !== undefined && isBridged(outcome.entry);
  if (incoming !== undefined && !incoming.answered && ctx.policy.updatePolicy === 'accept' && !bridged) await acceptPendingOffer(ctx, call);
}

/**
 * The outbound call a Call-ID of ours names (uac/call-id.ts), when its entry is that dialog: the
 * same Call-ID and the peer's tag as its remote tag. Anything else (a Call-ID of that shape chosen
 * by a peer, a request of another fork, our own INVITE looped back to us) goes through the index.
 */
async function namedCall(ctx: UaContext, callId: string, peerTag: string): Promise<string | undefined> {
  const call = callOfOutboundCallId(callId);
  if (call === undefined) return undefined;
  const e = ctx.calls.cached(call) ?? (await ctx.calls.get(call));
  const d = e?.value.dialog;
  return d !== undefined && d.role === 'uac' && d.callId === callId && d.remoteTag === peerTag ? call : undefined;
}

/** An inbound call bridged to legs, or one of its legs (handlers/bridge.ts). */
function isBridged(entry: CallEntry): boolean {
  return entry.bridge !== undefined || entry.bridgeOf !== undefined;
}

function stepRequest(ctx: UaContext, req: SipRequest, origin: RequestOrigin, call: string): Promise<StepOutcome<undefined>> {
  return runStep(
    ctx,
    call,
    (entry) => ({
      kind: 'transition',
      transition:
        repeatedBye(entry.dialog, req, ctx.clock()) ??
        handleRequest(ctx.dialog, entry.dialog, { request: req, txn: origin.txn ?? '', now: ctx.clock(), declineRefer: isBridged(entry) }),
      result: undefined,
    }),
    { origin, method: req.method, requestAnswered: req.method === 'CANCEL', onResponse: responseFeeder(ctx) },
  );
}

function respondBusy(req: SipRequest, retryAfter: number): ReturnType<typeof unknownDialog>['responses'][number]['response'] {
  const vias = req.via.map((v): readonly [string, string] => ['Via', v.raw]);
  return {
    status: 500,
    reason: 'Server Internal Error',
    headers: [...vias, ['From', req.from.raw], ['To', req.to.raw], ['Call-ID', req.callId], ['CSeq', `${req.cseq.seq} ${req.cseq.method}`], ['Retry-After', String(retryAfter)]],
  };
}

/**
 * Answers the peer's pending re-INVITE/UPDATE offer with our last local SDP (policy `accept`, or
 * when the controller did not answer by the entry's update deadline).
 */
export async function acceptPendingOffer(ctx: UaContext, call: string): Promise<void> {
  await runStep(
    ctx,
    call,
    (entry) => {
      const rec = entry.dialog;
      const sdp = rec.localSdp;
      // Only a call that is up: before that, `answer` would answer the INVITE itself.
      const up = rec.phase === 'answered' || rec.phase === 'confirmed';
      if (!up || rec.incoming === undefined || rec.incoming.answered || sdp === undefined) return { kind: 'stop', result: undefined };
      const outcome = handleCommand(ctx.dialog, rec, { action: 'answer', sdp }, ctx.clock());
      if (!outcome.ok) return { kind: 'stop', result: undefined };
      return { kind: 'transition', transition: outcome.transition, result: undefined };
    },
    { onResponse: responseFeeder(ctx) },
  );
}
