/**
 * One command on an existing call, from a controller or from the bridge: applied to the call entry
 * with compare-and-set (`runStep`), or, for an outbound call before its 2xx, to its UAC entry
 * (hangup there = CANCEL).
 */
import type { ReplyCode, ResponseEnvelope } from '@sipnats/contracts';
import { REPLY_CODE } from '@sipnats/contracts';
import { handleCommand, type CommandOutcome, type DialogCommand } from '../dialog/commands.js';
import { runStep } from '../handlers/call-runner.js';
import type { UaContext } from '../handlers/context.js';
import { responseFeeder } from '../handlers/in-dialog.js';
import { uacCommand } from '../handlers/outbound-call.js';

export type CallCommandOutcome =
  | { readonly ok: true; readonly status?: number }
  | { readonly ok: false; readonly code: ReplyCode; readonly error: string; readonly status?: number };

export interface RunCallCommandOptions {
  /** Called with the final response to the request the command sent, once the core took it. */
  readonly onFinal?: (response: ResponseEnvelope) => void;
}

export async function runCallCommand(ctx: UaContext, call: string, command: DialogCommand, o: RunCallCommandOptions = {}): Promise<CallCommandOutcome> {
  // A call this instance saw end stays ended (a bridge relays each side's end to the other, which
  // often ended first): refused as the core would, without reading KV.
  if (command.action === 'hangup' && ctx.calls.removalTicket(call) !== undefined) return { ok: false, code: REPLY_CODE.BAD_STATE, error: 'the call has already ended' };
  const outcome = await runStep<CommandOutcome>(
    ctx,
    call,
    (entry) => {
      const r = handleCommand(ctx.dialog, entry.dialog, command, ctx.clock());
      if (!r.ok) return { kind: 'stop', result: r };
      return { kind: 'transition', transition: r.transition, result: r };
    },
    { onResponse: responseFeeder(ctx, o.onFinal) },
  );
  if (outcome.kind === 'not-found') {
    const r = await uacCommand(ctx, call, command);
    return r ?? { ok: false, code: REPLY_CODE.NOT_FOUND, error: `no call ${call}` };
  }
  if (outcome.kind === 'conflict') return { ok: false, code: REPLY_CODE.CONFLICT, error: 'the call kept changing; try again' };
  const r = outcome.result;
  if (!r.ok) return { ok: false, code: r.code, error: r.error };
  return { ok: true, ...(r.status === undefined ? {} : { status: r.status }) };
}
