/**
 * A re-INVITE/UPDATE offer relayed across a bridge that the other side refused with a non-2xx
 * (RFC 3261 §14.1: the session stays as it was) is refused to its sender too (§14.2), instead of
 * being left unanswered: with the same status when it says something about the callee or its
 * offer, with 488 when it concerns only the hop between sipnats and the other side.
 */
import { handleCommand } from '../dialog/commands.js';
import { runStep } from './call-runner.js';
import type { UaContext } from './context.js';
import { responseFeeder } from './in-dialog.js';

/**
 * Statuses that concern this hop only (a challenge, a redirect, an extension or session interval
 * the other side wants of us, a dialog or transaction problem there): its sender gets 488 Not
 * Acceptable Here for those, else the status as it came.
 */
const HOP_STATUSES: ReadonlySet<number> = new Set([401, 407, 408, 420, 421, 422, 423, 481, 482, 483, 491]);

/** The status that refuses a relayed offer to its sender when the other side refused it with `status`. */
export function refusalStatus(status: number): number {
  if (!Number.isInteger(status) || status < 400 || status > 699 || HOP_STATUSES.has(status)) return 488;
  return status;
}

/**
 * The other side refused the offer relayed from `peer`: the offer pending on `peer` gets that
 * refusal. Only a pending offer of a call that is up (`reject` of a call not answered yet would
 * reject the call).
 */
export async function refusePendingOffer(ctx: UaContext, peer: string, status: number): Promise<void> {
  const r = await runStep<boolean>(
    ctx,
    peer,
    (entry) => {
      const rec = entry.dialog;
      const up = rec.phase === 'answered' || rec.phase === 'confirmed';
      // Not pending any more (CANCELed, or the call ended): nothing to refuse.
      if (!up || rec.incoming === undefined || rec.incoming.answered) return { kind: 'stop', result: false };
      const o = handleCommand(ctx.dialog, rec, { action: 'reject', status: refusalStatus(status) }, ctx.clock());
      return o.ok ? { kind: 'transition', transition: o.transition, result: true } : { kind: 'stop', result: false };
    },
    { onResponse: responseFeeder(ctx) },
  );
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ call: peer, status, applied: r.kind === 'done' && r.result }, 'relayed offer refused');
}
