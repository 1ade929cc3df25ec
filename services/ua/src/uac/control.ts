/**
 * Commands and timers of an outbound call. Before the final response, `hangup` and the ring
 * timeout CANCEL the INVITE (§9.1); after the 2xx, commands and dialog timers go to the dialog
 * core. `ring`, `answer`, `reject` and `redirect` are for inbound calls only.
 */
import type { DialogCommand } from '../dialog/commands.js';
import { endSession, UacOut } from './builders.js';
import { dialogCommand, handleUacDialogTimer } from './in-dialog-adapter.js';
import type { UacCommandOutcome } from './in-dialog-adapter.js';
import { requestCancel } from './session.js';
import type { UacConfig, UacRecord, UacTimerName, UacTransition } from './types.js';

export function handleUacCommand(config: UacConfig, record: UacRecord, command: DialogCommand, now: number): UacCommandOutcome {
  const phase = record.phase;
  switch (command.action) {
    case 'ring':
    case 'answer':
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
    default:
      return handleUacDialogTimer(config, record, name, now);
  }
}
