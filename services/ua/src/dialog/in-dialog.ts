/**
 * Requests from the peer for an existing call (ACK, BYE, CANCEL, PRACK, re-INVITE, UPDATE, INFO,
 * OPTIONS) and responses to the requests we sent in the dialog. RFC 3261 §12.2.2 (matching and
 * CSeq order), §14 (re-INVITE, glare), §15 (BYE), §9.2 (CANCEL); RFC 3262 (PRACK); RFC 3311
 * (UPDATE); RFC 6086 (INFO); RFC 4028 (refreshes).
 */
import { randomInt } from 'node:crypto';
import { snapshotRequest } from '../response.js';
import { bodyText } from '../sip-view.js';
import type { RequestView, ResponseView } from '../sip-view.js';
import { allowHeader, inDialogRequest, Out, requestResponse } from './builders.js';
import { armSessionTimer, NO_SDP_ANSWER_CAUSE, offerHeaders, sendAnswer, sendBye, sendProvisional } from './commands.js';
import { parseDtmf } from './dtmf.js';
import { minSEOf, refreshRetryAt, sessionTimerHeaders } from './session-timer.js';
import { endCall } from './end-call.js';
import { onNotify, onNotifyResponse, onRefer, onReferResponse } from './transfer.js';
import { hasSdp } from './uas-invite.js';
import type { DialogConfig, DialogRecord, OutgoingOffer, Transition } from './types.js';

export interface InDialogInput {
  readonly request: RequestView;
  /** Opaque id of this request's server transaction (kept for deferred answers). */
  readonly txn: string;
  readonly now: number;
  /** 0..1, for the Retry-After of §14.2 and glare back-off; default crypto randomness. */
  readonly random?: () => number;
  /** Answer a REFER 603 (transfers of this call are not offered to anyone, e.g. a bridged call). */
  readonly declineRefer?: boolean;
}

/** A request that matches no dialog: 481, except ACK which gets nothing (§12.2.2). */
export function unknownDialog(request: RequestView): Transition {
  const out = new Out(undefined);
  if (request.method !== 'ACK') out.respond({ to: 'request' }, requestResponse(snapshotRequest(request), undefined, 481));
  return out.done();
}

/** Whether the request belongs to this dialog (Call-ID and tags; CANCEL by the CSeq of its INVITE or re-INVITE). */
export function matchesDialog(record: DialogRecord, request: RequestView): boolean {
  if (request.callId !== record.callId) return false;
  if (request.method === 'CANCEL') {
    const seq = request.cseq.seq;
    return request.from.tag === record.remoteTag && (seq === record.invite.cseq || seq === record.incoming?.cseq);
  }
  return request.from.tag === record.remoteTag && request.to.tag === record.localTag;
}

export function handleRequest(config: DialogConfig, record: DialogRecord, input: InDialogInput): Transition {
  const { request, now } = input;
  if (!matchesDialog(record, request)) return unknownDialog(request);
  const out = new Out(record);
  const snapshot = snapshotRequest(request);
  const reply = (status: number, options: Parameters<typeof requestResponse>[3] = {}): void =>
    out.respond({ to: 'request' }, requestResponse(snapshot, record, status, options));
  const method = request.method;
  const phase = record.phase;

  if (method === 'ACK') return onAck(out, request, now);
  if (method === 'CANCEL') {
    reply(200);
    const incoming = record.incoming;
    if (request.cseq.seq !== record.invite.cseq) {
      // §9.2: a re-INVITE not answered yet gets 487; the session stays as it was (§14.2).
      if (incoming?.method === 'INVITE' && !incoming.answered) {
        out.respond({ to: 'txn', txn: incoming.txn }, requestResponse(incoming.request, record, 487));
        out.set({ incoming: undefined }, now);
      }
    } else if (phase === 'offered' || phase === 'early') {
      out.respond({ to: 'invite' }, requestResponse(record.invite.request, record, 487));
      out.set({ invite: { ...record.invite, finalStatus: 487 } }, now);
      endCall(out, now, 'ORIGINATOR_CANCEL', 'cancelled', 487);
    }
    return out.done();
  }
  // §12.2.2: a CSeq not above the remote CSeq is out of order.
  if (request.cseq.seq <= record.remoteCseq) {
    reply(500, { reason: 'CSeq Out Of Order' });
    return out.done();
  }
  if (phase === 'ended') {
    reply(481);
    return out.done();
  }
  out.set({ remoteCseq: request.cseq.seq }, now);
  const sdp = hasSdp(request.contentType, request.body) ? bodyText(request.body) : undefined;

  switch (method) {
    case 'BYE': {
      reply(200);
      if (phase === 'offered' || phase === 'early') {
        out.respond({ to: 'invite' }, requestResponse(record.invite.request, record, 487));
        out.set({ invite: { ...record.invite, finalStatus: 487 } }, now);
      }
      if (record.incoming !== undefined && !record.incoming.answered) {
        out.respond({ to: 'txn', txn: record.incoming.txn }, requestResponse(record.incoming.request, record, 487));
      }
      endCall(out, now, 'NORMAL_CLEARING', 'ended');
      const ended = out.rec.ended;
      if (ended !== undefined) out.set({ ended: { ...ended, bye: request.cseq.seq } }, now);
      return out.done();
    }
    case 'PRACK': {
      const pending = record.reliable.pending;
      const rack = request.rack;
      if (pending === undefined || rack === undefined || rack.rseq !== pending.rseq || rack.cseq !== record.invite.cseq || rack.method.toUpperCase() !== 'INVITE') {
        reply(481);
        return out.done();
      }
      reply(200);
      out.cancel('rel-retransmit', 'rel-timeout');
      const [next, ...rest] = record.reliable.queued;
      const deferred = record.reliable.deferredAnswer;
      out.set({ reliable: { ...record.reliable, pending: undefined, queued: rest } }, now);
      if (deferred !== undefined) sendAnswer(config, out, deferred.sdp, deferred.headers, now);
      else if (next !== undefined) sendProvisional(config, out, next.status, next.sdp, true, now);
      return out.done();
    }
    case 'INVITE':
    case 'UPDATE': {
      const pendingFinal = phase === 'offered' || phase === 'early';
      if (method === 'INVITE' && (pendingFinal || (record.incoming !== undefined))) {
        // §14.2: an INVITE while another is unanswered: 500 with Retry-After 0..10 s.
        reply(500, { headers: [['Retry-After', String(retryAfter0to10(input.random))]] });
        return out.done();
      }
      if (pendingFinal && sdp !== undefined && sdp !== record.remoteSdp) {
        // RFC 3311 §5.2: an offer in an UPDATE before the call is answered. While the INVITE's offer
        // waits for its answer this is 500 with Retry-After; once it was answered in a reliable
        // provisional, only the controller's answer to the INVITE could answer it, and it answers
        // the INVITE instead: refused the same way, retried once the call is up.
        reply(500, { headers: [['Retry-After', String(retryAfter0to10(input.random))]] });
        return out.done();
      }
      if (record.outgoing !== undefined && !record.outgoing.retryPending) {
        reply(491); // §14.2 / RFC 3311 §5.2: glare.
        return out.done();
      }
      if (record.incoming !== undefined) {
        reply(500, { headers: [['Retry-After', '1']] });
        return out.done();
      }
      const contact = request.contacts[0];
      if (contact !== undefined) out.set({ remoteTarget: contact.uri.raw }, now); // target refresh
      if (sdp === undefined || sdp === record.remoteSdp) {
        // No new offer (a session refresh): answer at once with our current session.
        const headers: (readonly [string, string])[] = [['Contact', `<${record.localTarget}>`]];
        if (record.timer !== undefined) headers.push(...sessionTimerHeaders(record.timer));
        const body = method === 'INVITE' || sdp !== undefined ? record.localSdp : undefined;
        reply(200, { headers, sdp: body });
        if (method === 'INVITE') {
          out.set({ incoming: { method, cseq: request.cseq.seq, txn: input.txn, request: snapshot, sdp, answered: true } }, now);
        }
        armSessionTimer(out, now);
        return out.done();
      }
      // remoteSdp changes when the offer is answered (it may be cancelled before: §14.2).
      out.set({ incoming: { method, cseq: request.cseq.seq, txn: input.txn, request: snapshot, sdp, answered: false } }, now);
      out.events.push({ event: 'updated', sdp });
      return out.done();
    }
    case 'INFO': {
      const text = bodyText(request.body);
      reply(200);
      const dtmf = parseDtmf(request.contentType, text);
      if (dtmf !== undefined) out.events.push({ event: 'dtmf', dtmf });
      else out.events.push({ event: 'info', ...(request.contentType === undefined ? {} : { contentType: request.contentType }), body: text });
      return out.done();
    }
    case 'OPTIONS':
      reply(200, { headers: [allowHeader(config), ['Accept', 'application/sdp']] });
      return out.done();
    case 'REFER':
      onRefer(config, out, request, reply, input.declineRefer === true, now);
      return out.done();
    case 'NOTIFY':
      onNotify(config, out, request, bodyText(request.body), reply, (cause) => sendBye(out, cause, undefined, now), now);
      return out.done();
    default:
      reply(501, { headers: [allowHeader(config)] });
      return out.done();
  }
}

/** A Retry-After of 0..10 s chosen at random (§14.2, RFC 3311 §5.2); `random` gives 0..1. */
export function retryAfter0to10(random?: () => number): number {
  return Math.floor((random ?? (() => randomInt(0, 10_001) / 10_000))() * 10);
}

function onAck(out: Out, request: RequestView, now: number): Transition {
  const record = out.rec;
  const sdp = hasSdp(request.contentType, request.body) ? bodyText(request.body) : undefined;
  if (record.phase === 'answered' && request.cseq.seq === record.invite.cseq) {
    out.set({ phase: 'confirmed', state: 'confirmed', pending2xx: undefined, ...(sdp === undefined ? {} : { remoteSdp: sdp }) }, now);
    out.cancel('2xx-retransmit', 'ack-timeout');
    if (sdp === undefined && record.remoteSdp === undefined) {
      // Late offer (§13.2.1): the INVITE had no SDP, our 2xx made the offer, the ACK must answer it.
      sendBye(out, NO_SDP_ANSWER_CAUSE, 'no SDP answer in the ACK', now);
      return out.done();
    }
    out.events.push({ event: 'confirmed', ...(sdp === undefined ? {} : { sdp }) });
    const hangup = record.hangupAfterAck;
    if (hangup !== undefined) sendBye(out, hangup.cause, hangup.reason, now);
    else armSessionTimer(out, now);
    return out.done();
  }
  if (record.incoming?.answered === true && request.cseq.seq === record.incoming.cseq) {
    out.set({ incoming: undefined }, now);
  }
  return out.done();
}

/** A response to a request we sent in the dialog (re-INVITE, UPDATE, INFO, BYE, REFER, NOTIFY). */
export function handleResponse(config: DialogConfig, record: DialogRecord, response: ResponseView, now: number, random: () => number = () => randomInt(0, 10_001) / 10_000): Transition {
  const out = new Out(record);
  if (response.callId !== record.callId || response.from.tag !== record.localTag) return out.done();
  const status = response.status;
  if (status < 200) return out.done();
  const outgoing = record.outgoing;
  const method = response.cseq.method.toUpperCase();
  if (outgoing !== undefined && response.cseq.seq === outgoing.cseq && method === outgoing.method) {
    if (status < 300) {
      if (method === 'INVITE') out.requests.push(inDialogRequest(record, 'ACK', outgoing.cseq));
      const sdp = hasSdp(response.contentType, response.body) ? bodyText(response.body) : undefined;
      const contact = response.contacts[0];
      out.set(
        {
          outgoing: undefined,
          // Answered: our offer is the session now (a refresh offers the session it had).
          ...(outgoing.sdp === undefined ? {} : { localSdp: outgoing.sdp }),
          ...(sdp === undefined ? {} : { remoteSdp: sdp }),
          ...(contact === undefined ? {} : { remoteTarget: contact.uri.raw }),
        },
        now,
      );
      if (!outgoing.refresh || sdp !== record.remoteSdp) out.events.push({ event: 'updated', ...(sdp === undefined ? {} : { sdp }), status });
      armSessionTimer(out, now);
      return out.done();
    }
    if (status === 491) {
      // §14.1: we did not choose the Call-ID (UAS), so wait 0..2 s before retrying.
      out.set({ outgoing: { ...outgoing, retryPending: true } }, now);
      out.arm('glare-retry', now + Math.floor(random() * 2000));
      return out.done();
    }
    if (status === 481 || status === 408) {
      sendBye(out, 'RECOVERY_ON_TIMER_EXPIRE', `${status} to ${method}`, now);
      return out.done();
    }
    if (status === 422 && retryWithMinSE(out, outgoing, response, now)) return out.done();
    out.set({ outgoing: undefined }, now);
    if (outgoing.refresh) {
      // RFC 4028 §10: the session was not refreshed; try again before it expires. The refresh
      // is ours, not a controller's offer: no event (as for its 2xx).
      if (record.timer !== undefined) out.arm('session-refresh', refreshRetryAt(record.timer, now));
      return out.done();
    }
    // The session stays as it was: not a failed call (controllers and mod_sipnats end calls on `failed`).
    out.events.push({ event: 'updated', status, reason: response.reason, offerFailed: true });
    return out.done();
  }
  if (method === 'NOTIFY') {
    // Our NOTIFY of the peer's REFER: a failure ends that subscription, not the dialog (RFC 5057).
    if (record.phase !== 'ended') onNotifyResponse(out, response, (cause, reason) => sendBye(out, cause, reason, now), now);
    return out.done();
  }
  if (method === 'REFER' && record.phase !== 'ended' && onReferResponse(config, out, response, now) && status < 300) return out.done();
  if ((status === 481 || status === 408) && record.phase !== 'ended' && method !== 'BYE') {
    // §12.2.1.2: the dialog is gone on the other side.
    endCall(out, now, 'RECOVERY_ON_TIMER_EXPIRE', 'ended', status, response.reason);
  }
  return out.done();
}

/**
 * RFC 4028 §6, §7.3: a 422 names the smallest interval the peer takes in Min-SE; the offer goes
 * again (new CSeq, same SDP) with the session interval raised to it and that Min-SE, once per
 * offer. False when there is nothing to retry (no session timer, no usable Min-SE, already
 * retried): the 422 is then a refusal like any other.
 */
function retryWithMinSE(out: Out, outgoing: OutgoingOffer, response: ResponseView, now: number): boolean {
  const timer = out.rec.timer;
  const minSE = minSEOf(response);
  if (timer === undefined || outgoing.minSERetried === true || minSE === undefined || minSE <= timer.interval) return false;
  const cseq = out.rec.localCseq + 1;
  out.set({ localCseq: cseq, timer: { ...timer, interval: minSE }, outgoing: { ...outgoing, cseq, retryPending: false, minSERetried: true } }, now);
  out.requests.push(
    inDialogRequest(out.rec, outgoing.method, cseq, {
      headers: offerHeaders(out.rec, minSE),
      ...(outgoing.sdp === undefined ? {} : { body: { contentType: 'application/sdp', content: outgoing.sdp } }),
    }),
  );
  return true;
}
