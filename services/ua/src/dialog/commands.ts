/**
 * Controller commands (ring, answer, reject, redirect, hangup, info, update) applied to a dialog
 * record. A command not allowed in the current phase is refused with BAD_STATE; a command that
 * repeats what already happened (a second answer, a second reject) gets CONFLICT: with KV
 * compare-and-set, that is what the losing instance sees.
 */
import { buildResponse } from '../response.js';
import type { Header } from '../sip-view.js';
import { quote } from '../sip-view.js';
import { inDialogRequest, inviteResponse, Out, sdpBody, t1 } from './builders.js';
import { endCall } from './end-call.js';
import { expireAt, refreshAt, sessionExpiresForRequest, sessionTimerHeaders } from './session-timer.js';
import { hangupAfterNotify, sendRefer } from './transfer.js';
import { MAX_QUEUED_PROVISIONALS } from './types.js';
import type { DialogConfig, DialogRecord, Transition } from './types.js';

export type DialogCommand =
  | { readonly action: 'ring'; readonly status?: 180 | 183; readonly sdp?: string; readonly reliable?: boolean }
  | { readonly action: 'answer'; readonly sdp: string; readonly headers?: Readonly<Record<string, string>> }
  | { readonly action: 'reject'; readonly status: number; readonly reason?: string; readonly headers?: Readonly<Record<string, string>> }
  | { readonly action: 'redirect'; readonly status?: number; readonly contacts: readonly string[] }
  | { readonly action: 'hangup'; readonly cause?: string; readonly reason?: string }
  | { readonly action: 'info'; readonly contentType: string; readonly body: string }
  | { readonly action: 'update'; readonly sdp: string; readonly method?: 'INVITE' | 'UPDATE' }
  | { readonly action: 'transfer'; readonly target: string; readonly headers?: Readonly<Record<string, string>> };

/** The contracts' CommandReply codes a command can fail with here. */
export type CommandErrorCode = 'INVALID' | 'BAD_STATE' | 'CONFLICT';

export type CommandOutcome =
  | { readonly ok: true; readonly transition: Transition; readonly status?: number }
  | { readonly ok: false; readonly code: CommandErrorCode; readonly error: string };

const fail = (code: CommandErrorCode, error: string): CommandOutcome => ({ ok: false, code, error });

/** Q.850 cause values of the common cause names (RFC 3326 Reason header). */
const Q850: Readonly<Record<string, number>> = {
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  NORMAL_UNSPECIFIED: 31,
  NORMAL_TEMPORARY_FAILURE: 41,
  MANDATORY_IE_MISSING: 96,
  RECOVERY_ON_TIMER_EXPIRE: 102,
  // A call transferred away ends normally (the name is FreeSWITCH's hang-up cause for it).
  BLIND_TRANSFER: 16,
};

/** The cause when an offer gets no SDP answer (late offer: the ACK carried none); Q.850 96. */
export const NO_SDP_ANSWER_CAUSE = 'MANDATORY_IE_MISSING';

export function reasonHeader(cause: string, text?: string): Header {
  const code = Q850[cause];
  return code === undefined
    ? ['Reason', `SIP;text=${quote(text ?? cause)}`]
    : ['Reason', `Q.850;cause=${code};text=${quote(text ?? cause)}`];
}

/** Extra headers from a controller: only `X-` names, single-line values. */
function extraHeaders(map: Readonly<Record<string, string>> | undefined): Header[] | string {
  const out: Header[] = [];
  for (const [name, value] of Object.entries(map ?? {})) {
    if (!/^X-[A-Za-z0-9-]+$/i.test(name)) return `header ${name} is not an X- header`;
    if (/[\r\n]/.test(value)) return `header ${name} has a line break`;
    out.push([name, value]);
  }
  return out;
}

export function handleCommand(config: DialogConfig, record: DialogRecord, command: DialogCommand, now: number): CommandOutcome {
  const out = new Out(record);
  const phase = record.phase;
  switch (command.action) {
    case 'ring': {
      if (phase !== 'offered' && phase !== 'early') return fail('BAD_STATE', `cannot ring a call that is ${phase}`);
      const status = command.status ?? (command.sdp === undefined ? 180 : 183);
      const reliable = command.reliable ?? record.reliable.peerRequires;
      if (reliable && !record.reliable.peerSupports) return fail('INVALID', 'the caller does not support 100rel');
      if (!reliable && record.reliable.peerRequires) return fail('INVALID', 'the caller requires reliable provisional responses');
      if (reliable && record.reliable.pending !== undefined) {
        if (record.reliable.queued.length >= MAX_QUEUED_PROVISIONALS) return fail('BAD_STATE', 'too many provisional responses waiting for PRACK');
        out.set({ reliable: { ...record.reliable, queued: [...record.reliable.queued, { status, sdp: command.sdp }] } }, now);
        return { ok: true, transition: out.done(), status };
      }
      sendProvisional(config, out, status, command.sdp, reliable, now);
      return { ok: true, transition: out.done(), status };
    }
    case 'answer': {
      const extra = extraHeaders(command.headers);
      if (typeof extra === 'string') return fail('INVALID', extra);
      if (phase === 'answered' || phase === 'confirmed') {
        const incoming = record.incoming;
        if (incoming !== undefined && !incoming.answered) return answerIncoming(out, command.sdp, now);
        return fail('CONFLICT', 'the call is already answered');
      }
      if (phase === 'ended') return fail('BAD_STATE', 'the call has ended');
      if (record.reliable.pending?.hasSdp === true) {
        // RFC 3262 §3: no 2xx before the PRACK of a reliable provisional that carried SDP.
        out.set({ reliable: { ...record.reliable, deferredAnswer: { sdp: command.sdp, headers: extra } } }, now);
        return { ok: true, transition: out.done(), status: 200 };
      }
      sendAnswer(config, out, command.sdp, extra, now);
      return { ok: true, transition: out.done(), status: 200 };
    }
    case 'reject':
    case 'redirect': {
      const status = command.action === 'reject' ? command.status : (command.status ?? 302);
      const range = command.action === 'reject' ? [300, 699] : [300, 399];
      if (!Number.isInteger(status) || status < (range[0] ?? 0) || status > (range[1] ?? 0)) return fail('INVALID', `status ${status} out of range`);
      if (phase === 'ended' && (record.invite.finalStatus ?? 0) >= 300) return fail('CONFLICT', 'the call is already rejected');
      const incoming = record.incoming;
      if (command.action === 'reject' && (phase === 'answered' || phase === 'confirmed') && incoming !== undefined && !incoming.answered) {
        // The call is up: `reject` refuses the peer's pending re-INVITE/UPDATE offer instead (§14.2).
        return rejectIncoming(out, status, command.reason, command.headers, now);
      }
      if (phase !== 'offered' && phase !== 'early') return fail('BAD_STATE', `cannot ${command.action} a call that is ${phase}`);
      let headers: Header[];
      if (command.action === 'reject') {
        const extra = extraHeaders(command.headers);
        if (typeof extra === 'string') return fail('INVALID', extra);
        headers = extra;
      } else {
        if (command.contacts.length === 0 || command.contacts.some((c) => /[\r\n<>]/.test(c))) return fail('INVALID', 'redirect needs contact URIs');
        headers = command.contacts.map((c): Header => ['Contact', `<${c}>`]);
      }
      const reason = command.action === 'reject' ? command.reason : undefined;
      out.respond({ to: 'invite' }, inviteResponse(record, config, status, { headers, ...(reason === undefined ? {} : { reason }) }));
      out.set({ invite: { ...record.invite, finalStatus: status } }, now);
      endCall(out, now, command.action === 'reject' ? 'CALL_REJECTED' : 'REDIRECTED', 'ended', status, reason);
      return { ok: true, transition: out.done(), status };
    }
    case 'hangup': {
      const cause = command.cause ?? 'NORMAL_CLEARING';
      if (phase === 'ended') return fail('BAD_STATE', 'the call has already ended');
      if (phase === 'offered' || phase === 'early') {
        out.respond({ to: 'invite' }, inviteResponse(record, config, 480, { headers: [reasonHeader(cause, command.reason)] }));
        out.set({ invite: { ...record.invite, finalStatus: 480 } }, now);
        endCall(out, now, cause, 'ended', 480, command.reason);
        return { ok: true, transition: out.done(), status: 480 };
      }
      if (phase === 'answered') {
        // §15: no BYE before the ACK of our 2xx; it goes out when the ACK arrives (or times out).
        out.set({ hangupAfterAck: { cause, reason: command.reason } }, now);
        return { ok: true, transition: out.done() };
      }
      if (record.referIn?.hangupAfterNotify !== undefined) return fail('CONFLICT', 'the call is already being hung up');
      // The peer's REFER is open: its final NOTIFY goes first, the BYE once that is answered.
      if (!hangupAfterNotify(config, out, cause, command.reason, now)) sendBye(out, cause, command.reason, now);
      return { ok: true, transition: out.done() };
    }
    case 'info': {
      if (phase === 'offered' || phase === 'ended') return fail('BAD_STATE', `no dialog to send INFO in (call ${phase})`);
      if (/[\r\n]/.test(command.contentType)) return fail('INVALID', 'bad content type');
      const cseq = record.localCseq + 1;
      out.set({ localCseq: cseq }, now);
      out.requests.push(inDialogRequest(out.rec, 'INFO', cseq, { body: { contentType: command.contentType, content: command.body } }));
      return { ok: true, transition: out.done() };
    }
    case 'update': {
      const method = command.method ?? 'INVITE';
      if (phase !== 'confirmed' && !(method === 'UPDATE' && (phase === 'early' || phase === 'answered'))) {
        return fail('BAD_STATE', `cannot send ${method} while the call is ${phase}`);
      }
      if (record.outgoing !== undefined || record.incoming !== undefined) return fail('BAD_STATE', 'an offer is already pending');
      sendOffer(out, method, command.sdp, false, now);
      return { ok: true, transition: out.done() };
    }
    case 'transfer': {
      const extra = extraHeaders(command.headers);
      if (typeof extra === 'string') return fail('INVALID', extra);
      if (record.referIn?.hangupAfterNotify !== undefined) return fail('BAD_STATE', 'the call is being hung up');
      const r = sendRefer(config, out, command.target, extra, now);
      return r.ok ? { ok: true, transition: out.done() } : r;
    }
  }
}

/** Sends a 18x, reliably (RSeq, Require: 100rel, retransmission timers) when asked. */
export function sendProvisional(config: DialogConfig, out: Out, status: number, sdp: string | undefined, reliable: boolean, now: number): void {
  const record = out.rec;
  const headers: Header[] = [];
  if (reliable) headers.push(['Require', '100rel'], ['RSeq', String(record.reliable.nextRseq)]);
  const response = inviteResponse(record, config, status, { headers, sdp });
  out.respond({ to: 'invite' }, response);
  out.set(
    {
      phase: 'early',
      ...(sdp === undefined ? {} : { localSdp: sdp }),
      ...(reliable
        ? {
            reliable: {
              ...record.reliable,
              nextRseq: record.reliable.nextRseq + 1,
              pending: { rseq: record.reliable.nextRseq, response, hasSdp: sdp !== undefined, interval: t1(config), sentAt: now },
            },
          }
        : {}),
    },
    now,
  );
  if (reliable) {
    out.arm('rel-retransmit', now + t1(config));
    out.arm('rel-timeout', now + 64 * t1(config));
  }
  out.events.push(sdp === undefined ? { event: 'ringing', status } : { event: 'early', status, sdp });
}

/** Sends the 2xx to the initial INVITE and waits for the ACK (§13.3.1.4). */
export function sendAnswer(config: DialogConfig, out: Out, sdp: string, extra: readonly Header[], now: number): void {
  const record = out.rec;
  const headers: Header[] = [...(record.timer === undefined ? [] : sessionTimerHeaders(record.timer)), ...extra];
  const response = inviteResponse(record, config, 200, { headers, sdp });
  out.respond({ to: 'invite' }, response);
  out.set(
    {
      phase: 'answered',
      localSdp: sdp,
      invite: { ...record.invite, finalStatus: 200 },
      pending2xx: { response, interval: t1(config) },
      reliable: { ...record.reliable, pending: undefined, queued: [], deferredAnswer: undefined },
    },
    now,
  );
  out.cancel('no-answer', 'rel-retransmit', 'rel-timeout');
  out.arm('2xx-retransmit', now + t1(config));
  out.arm('ack-timeout', now + 64 * t1(config));
  out.events.push({ event: 'answered', status: 200 });
}

/** Answers the peer's pending re-INVITE or UPDATE with our SDP. */
function answerIncoming(out: Out, sdp: string, now: number): CommandOutcome {
  const record = out.rec;
  const incoming = record.incoming;
  if (incoming === undefined) return fail('BAD_STATE', 'no offer to answer');
  const headers: Header[] = [['Contact', `<${record.localTarget}>`], ...(record.timer === undefined ? [] : sessionTimerHeaders(record.timer))];
  out.respond({ to: 'txn', txn: incoming.txn }, buildResponse(incoming.request, 200, { toTag: record.localTag, headers, ...sdpBody(sdp) }));
  out.set({ localSdp: sdp, ...(incoming.sdp === undefined ? {} : { remoteSdp: incoming.sdp }), incoming: incoming.method === 'INVITE' ? { ...incoming, answered: true } : undefined }, now);
  armSessionTimer(out, now);
  return { ok: true, transition: out.done(), status: 200 };
}

/**
 * Refuses the peer's pending re-INVITE/UPDATE offer (§14.2): the session stays as it was (remote
 * SDP unchanged), the call stays up. The transport's INVITE server transaction takes the ACK.
 */
function rejectIncoming(out: Out, status: number, reason: string | undefined, headers: Readonly<Record<string, string>> | undefined, now: number): CommandOutcome {
  const record = out.rec;
  const incoming = record.incoming;
  if (incoming === undefined) return fail('BAD_STATE', 'no offer to reject');
  if (status < 400) return fail('INVALID', `an offer is refused with 400-699, not ${status}`);
  const extra = extraHeaders(headers);
  if (typeof extra === 'string') return fail('INVALID', extra);
  out.respond({ to: 'txn', txn: incoming.txn }, buildResponse(incoming.request, status, { toTag: record.localTag, headers: extra, ...(reason === undefined ? {} : { reason }) }));
  out.set({ incoming: undefined }, now);
  return { ok: true, transition: out.done(), status };
}

/** Re-arms the session timer after a successful refresh (RFC 4028 §10). */
export function armSessionTimer(out: Out, now: number): void {
  const timer = out.rec.timer;
  if (timer === undefined) return;
  if (timer.refresher === 'local') out.arm('session-refresh', refreshAt(timer, now));
  else out.arm('session-expire', expireAt(timer, now));
}

/**
 * Session timer headers of a re-INVITE/UPDATE we send (RFC 4028 §7.4); kept for its glare retry.
 * `minSE`: the Min-SE of a 422 the request answers (§7.3).
 */
export function offerHeaders(record: DialogRecord, minSE?: number): Header[] {
  if (record.timer === undefined) return [];
  const headers: Header[] = [['Session-Expires', sessionExpiresForRequest(record.timer)], ['Supported', 'timer']];
  if (minSE !== undefined) headers.push(['Min-SE', String(minSE)]);
  return headers;
}

/**
 * Sends a re-INVITE or UPDATE offer. The local SDP stays the one last agreed until the offer's
 * 2xx: a refused offer changes nothing (§14.1).
 */
export function sendOffer(out: Out, method: 'INVITE' | 'UPDATE', sdp: string | undefined, refresh: boolean, now: number): void {
  const record = out.rec;
  const cseq = record.localCseq + 1;
  const headers = offerHeaders(record);
  out.set({ localCseq: cseq, outgoing: { method, cseq, sdp, refresh, retryPending: false } }, now);
  out.requests.push(inDialogRequest(out.rec, method, cseq, { headers, ...(sdp === undefined ? {} : { body: { contentType: 'application/sdp', content: sdp } }) }));
}

/** Sends BYE and ends the call; a re-INVITE/UPDATE of the peer still waiting for our answer gets 487 (§15.1.2). */
export function sendBye(out: Out, cause: string, reason: string | undefined, now: number): void {
  const incoming = out.rec.incoming;
  if (incoming !== undefined && !incoming.answered) {
    out.respond({ to: 'txn', txn: incoming.txn }, buildResponse(incoming.request, 487, { toTag: out.rec.localTag }));
  }
  const cseq = out.rec.localCseq + 1;
  out.set({ localCseq: cseq }, now);
  out.requests.push(inDialogRequest(out.rec, 'BYE', cseq, { headers: [reasonHeader(cause, reason)] }));
  endCall(out, now, cause, 'ended', undefined, reason);
}
