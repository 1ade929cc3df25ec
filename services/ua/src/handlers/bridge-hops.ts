/**
 * Max-Forwards across a bridge (RFC 3261 §8.1.1.6, §16.6 step 3): each leg's INVITE carries the
 * inbound INVITE's Max-Forwards minus one, so a route or bridge target that leads back to sipnats
 * (directly or through other hops) ends after a bounded number of hops instead of looping: the
 * INVITE whose legs would get 0 is answered 483 Too Many Hops.
 */
import { REPLY_CODE } from '@sipnats/contracts';
import { handleCommand } from '../dialog/commands.js';
import { DEFAULT_MAX_FORWARDS } from '../uac/types.js';
import { runStep } from './call-runner.js';
import type { UaContext } from './context.js';
import { responseFeeder } from './in-dialog.js';
import type { UacOutcome } from './outbound-call.js';

/**
 * Max-Forwards of a bridge's legs: the inbound INVITE's minus one, at most the default (70); an
 * entry stored before the inbound value was kept (or an INVITE without one) gives the default.
 */
export function legMaxForwards(inbound: number | undefined, fallback = DEFAULT_MAX_FORWARDS): number {
  return inbound === undefined ? fallback : Math.min(inbound - 1, fallback);
}

/**
 * The legs would get Max-Forwards 0, which their next hop would answer with 483 (RFC 3261 §16.3
 * step 3): the caller gets 483 Too Many Hops at once instead.
 */
export async function tooManyHops(ctx: UaContext, call: string): Promise<UacOutcome> {
  const r = await runStep<boolean>(
    ctx,
    call,
    (entry) => {
      const phase = entry.dialog.phase;
      if (entry.bridge !== undefined || (phase !== 'offered' && phase !== 'early')) return { kind: 'stop', result: false };
      const o = handleCommand(ctx.dialog, entry.dialog, { action: 'reject', status: 483 }, ctx.clock());
      return o.ok ? { kind: 'transition', transition: o.transition, result: true } : { kind: 'stop', result: false };
    },
    { onResponse: responseFeeder(ctx) },
  );
  if (r.kind !== 'done' || !r.result) return { ok: false, code: REPLY_CODE.CONFLICT, error: 'the call changed (answered, ended or bridged)' };
  return { ok: false, code: REPLY_CODE.BAD_STATE, error: 'Max-Forwards exhausted (a routing loop?): the caller got 483 Too Many Hops' };
}
