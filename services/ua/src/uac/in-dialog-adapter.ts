/**
 * After the 2xx the outbound call is a regular dialog: the peer's BYE, re-INVITE, UPDATE, INFO and
 * the responses to our in-dialog requests are handled by the dialog core (`handleRequest`,
 * `handleResponse`, `handleCommand`, `handleTimer`) on `record.dialog`; this adapter feeds it and
 * folds its Transition back into the UAC record and transition shapes.
 */
import { handleCommand } from '../dialog/commands.js';
import type { CommandErrorCode, DialogCommand } from '../dialog/commands.js';
import { handleRequest, unknownDialog } from '../dialog/in-dialog.js';
import type { InDialogInput } from '../dialog/in-dialog.js';
import { handleTimer } from '../dialog/timers.js';
import type { TimerName, Transition } from '../dialog/types.js';
import type { UacConfig, UacRecord, UacRequest, UacTransition } from './types.js';

/** The UAC view of a dialog core transition on `record.dialog`. */
export function adaptDialogTransition(record: UacRecord, t: Transition, now: number): UacTransition {
  const dialog = t.record ?? record.dialog;
  const ended = dialog?.phase === 'ended' && record.phase !== 'ended';
  const next: UacRecord = t.changed
    ? {
        ...record,
        dialog,
        ...(ended ? { phase: 'ended' as const, ended: dialog?.ended ?? { cause: 'NORMAL_CLEARING', status: undefined, at: now } } : {}),
        updatedAt: now,
      }
    : record;
  const requests: UacRequest[] = t.requests.map((r) => ({ ...r, purpose: r.method === 'ACK' ? 'ack' : 'in-dialog' }));
  return {
    record: next,
    changed: t.changed,
    requests,
    responses: t.responses,
    events: t.events,
    timers: t.timers,
    cancelTimers: t.cancelTimers,
  };
}

function unchanged(record: UacRecord): UacTransition {
  return { record, changed: false, requests: [], responses: [], events: [], timers: [], cancelTimers: [] };
}

/**
 * A request from the peer for this outbound call. Before the 2xx there is no dialog to match:
 * 481 (ACK: nothing), per §12.2.2.
 */
export function handleUacRequest(config: UacConfig, record: UacRecord, input: InDialogInput): UacTransition {
  const dialog = record.dialog;
  if (dialog === undefined) {
    const t = unknownDialog(input.request);
    return { ...unchanged(record), responses: t.responses };
  }
  return adaptDialogTransition(record, handleRequest(config, dialog, input), input.now);
}

/** A dialog core timer (session-refresh, session-expire, glare-retry) of the confirmed dialog. */
export function handleUacDialogTimer(config: UacConfig, record: UacRecord, name: TimerName, now: number): UacTransition {
  const dialog = record.dialog;
  if (dialog === undefined) return unchanged(record);
  return adaptDialogTransition(record, handleTimer(config, dialog, name, now), now);
}

export type UacCommandOutcome =
  | { readonly ok: true; readonly transition: UacTransition; readonly status?: number }
  | { readonly ok: false; readonly code: CommandErrorCode; readonly error: string };

/** info / update / hangup on the confirmed dialog through the dialog core. */
export function dialogCommand(config: UacConfig, record: UacRecord, command: DialogCommand, now: number): UacCommandOutcome {
  const dialog = record.dialog;
  if (dialog === undefined) return { ok: false, code: 'BAD_STATE', error: 'the outbound call has no dialog yet' };
  const outcome = handleCommand(config, dialog, command, now);
  if (!outcome.ok) return outcome;
  return {
    ok: true,
    transition: adaptDialogTransition(record, outcome.transition, now),
    ...(outcome.status === undefined ? {} : { status: outcome.status }),
  };
}
