/**
 * Timer expiries (the caller runs the timers the transitions arm, and hands each back here).
 */
import { inDialogRequest, inviteResponse, Out, t2 } from './builders.js';
import { offerHeaders, reasonHeader, sendBye, sendOffer } from './commands.js';
import { endCall } from './end-call.js';
import { onReferTimeout, onTransferTimeout } from './transfer.js';
import type { DialogConfig, DialogRecord, TimerName, Transition } from './types.js';

export function handleTimer(config: DialogConfig, record: DialogRecord, name: TimerName, now: number): Transition {
  const out = new Out(record);
  const phase = record.phase;
  switch (name) {
    case 'no-answer':
      if (phase === 'offered' || phase === 'early') {
        const status = config.noAnswerStatus;
        out.respond({ to: 'invite' }, inviteResponse(record, config, status, { headers: [reasonHeader('NO_ANSWER')] }));
        out.set({ invite: { ...record.invite, finalStatus: status } }, now);
        endCall(out, now, 'NO_ANSWER', 'failed', status);
      }
      break;
    case 'rel-retransmit': {
      const pending = record.reliable.pending;
      if (pending === undefined || phase === 'ended') break;
      out.respond({ to: 'invite' }, pending.response);
      const interval = Math.min(pending.interval * 2, t2(config));
      out.set({ reliable: { ...record.reliable, pending: { ...pending, interval } } }, now);
      out.arm('rel-retransmit', now + interval);
      break;
    }
    case 'rel-timeout':
      // RFC 3262 §3: no PRACK in 64*T1: reject the INVITE with a 5xx.
      if (record.reliable.pending !== undefined && (phase === 'offered' || phase === 'early')) {
        out.respond({ to: 'invite' }, inviteResponse(record, config, 504, { reason: 'No PRACK' }));
        out.set({ invite: { ...record.invite, finalStatus: 504 } }, now);
        endCall(out, now, 'RECOVERY_ON_TIMER_EXPIRE', 'failed', 504, 'no PRACK');
      }
      break;
    case '2xx-retransmit': {
      const pending = record.pending2xx;
      if (pending === undefined || phase !== 'answered') break;
      out.respond({ to: 'invite' }, pending.response);
      const interval = Math.min(pending.interval * 2, t2(config));
      out.set({ pending2xx: { ...pending, interval } }, now);
      out.arm('2xx-retransmit', now + interval);
      break;
    }
    case 'ack-timeout':
      // §13.3.1.4: no ACK in 64*T1: the session is over; BYE it.
      if (phase === 'answered') sendBye(out, 'RECOVERY_ON_TIMER_EXPIRE', 'no ACK', now);
      break;
    case 'session-refresh':
      if (phase === 'confirmed' && record.outgoing === undefined && record.incoming === undefined) {
        sendOffer(out, 'INVITE', record.localSdp, true, now);
      } else if (phase === 'confirmed') {
        out.arm('session-refresh', now + 1000);
      }
      break;
    case 'session-expire':
      // RFC 4028 §10: no refresh in time: BYE.
      if (phase === 'confirmed') sendBye(out, 'RECOVERY_ON_TIMER_EXPIRE', 'session expired', now);
      break;
    case 'glare-retry': {
      const outgoing = record.outgoing;
      if (outgoing === undefined || !outgoing.retryPending || phase !== 'confirmed') break;
      if (record.incoming !== undefined) {
        out.arm('glare-retry', now + 1000);
        break;
      }
      const cseq = record.localCseq + 1;
      out.set({ localCseq: cseq, outgoing: { ...outgoing, cseq, retryPending: false } }, now);
      out.requests.push(
        inDialogRequest(out.rec, outgoing.method, cseq, {
          headers: offerHeaders(out.rec),
          ...(outgoing.sdp === undefined ? {} : { body: { contentType: 'application/sdp', content: outgoing.sdp } }),
        }),
      );
      break;
    }
    case 'transfer-timeout':
      if (phase === 'confirmed') onTransferTimeout(out, now);
      break;
    case 'refer-timeout':
      onReferTimeout(config, out, (cause, reason) => sendBye(out, cause, reason, now), now);
      break;
  }
  return out.done();
}
