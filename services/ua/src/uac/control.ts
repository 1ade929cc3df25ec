/**
 * Commands and timers of an outbound call. Before the final response, `hangup` and the ring
 * timeout CANCEL the INVITE (§9.1); after the 2xx, commands and dialog timers go to the dialog
 * core. `ring`, `reject` and `redirect` are for inbound calls only; `answer` too, except for a late
 * offer whose 2xx carried the offer: its SDP is the answer the ACK carries (late-offer.ts), and
 * `hangup` or the `answer-timeout` while that answer is awaited send ACK and BYE.
 */
import type { DialogCommand } from '../dialog/commands.js';
import { endSession, UacOut } from './builders.js';
import { dialogCommand, handleUacDialogTimer } from './in-dialog-adapter.js';
import type { UacCommandOutcome } from './in-dialog-adapter.js';
import { abandonAnswer, ackWithAnswer } from './late-offer.js';
import { requestCancel } from './session.js';
import type { UacConfig, UacRecord, UacTimerName, UacTransition } from './types.js';

export function handleUacCommand(config: UacConfig, record: UacRecord, command: DialogCommand, now: number): UacCommandOutcome {
  const phase = record.phase;
  switch (command.action) {
    case 'answer': {
      if (phase === 'answered') {
        const out = new UacOut(record);
        ackWithAnswer(out, command.sdp, now);
        return { ok: true, transition: out.done() };
      }
      if (phase === 'confirmed' && record.invite.sdp === undefined) return { ok: false, code: 'CONFLICT', error: 'the answer was already sent in the ACK' };
      if (phase === 'ended') return { ok: false, code: 'BAD_STATE', error: 'the call has ended' };
      const why = record.invite.sdp === undefined ? `no offer to answer yet (call ${phase})` : 'this outbound call made the offer';
      return { ok: false, code: 'BAD_STATE', error: `answer is for inbound calls and for the 2xx offer of an outbound late offer: ${why}` };
    }
    case 'ring':
    case 'reject':
    case 'redirect':
      return { ok: false, code: 'BAD_STATE', error: `${command.action} is for inbound calls; this call is outbound` };
    case 'hangup': {
      if (phase === 'ended') return { ok: false, code: 'BAD_STATE', error: 'the call has already ended' };
      if (phase === 'cancelling') return { ok: false, code: 'CONFLICT', error: 'the call is already being cancelled' };
      if (phase === 'calling' || phase === 'early') {
        const out = new UacOut(record);
        requestCancel(config, out, now, command.cause ?? 'ORIGINATOR_CANCEL', command.reason, 'cancelled');
        return { ok: true, transition: out.done() };
      }
      if (phase === 'answered') {
        const out = new UacOut(record);
        abandonAnswer(out, command.cause ?? 'NORMAL_CLEARING', command.reason, now);
        return { ok: true, transition: out.done() };
      }
      return dialogCommand(config, record, command, now);
    }
    case 'transfer':
      // Once answered the call has a regular entry (call.<call>) where transfers run; here it has none yet.
      return { ok: false, code: 'BAD_STATE', error: `cannot transfer a call that is ${phase}` };
    case 'info':
    case 'update':
      if (phase !== 'confirmed') return { ok: false, code: 'BAD_STATE', error: `cannot send ${command.action} while the call is ${phase}` };
      return dialogCommand(config, record, command, now);
  }
}

export function handleUacTimer(config: UacConfig, record: UacRecord, name: UacTimerName, now: number): UacTransition {
  const out = new UacOut(record);
  switch (name) {
    case 'ring-timeout':
      if (record.phase === 'calling' || record.phase === 'early') requestCancel(config, out, now, 'NO_ANSWER', 'ring timeout', 'failed');
      return out.done();
    case 'cancel-timeout':
      if (record.phase === 'cancelling') {
        const c = record.cancel;
        endSession(out, now, c?.cause ?? 'ORIGINATOR_CANCEL', c?.event ?? 'cancelled', undefined, 'no final response to the cancelled INVITE');
      }
      return out.done();
    case 'answer-timeout':
      abandonAnswer(out, 'RECOVERY_ON_TIMER_EXPIRE', 'no SDP answer for the ACK in time', now);
      return out.done();
    default:
      return handleUacDialogTimer(config, record, name, now);
  }
}
