/**
 * Ending a call: the record goes to phase ended / state terminated and every timer is cancelled.
 */
import type { Out } from './builders.js';
import type { DialogEvent } from './types.js';

export const ALL_TIMERS = ['no-answer', 'rel-retransmit', 'rel-timeout', '2xx-retransmit', 'ack-timeout', 'session-refresh', 'session-expire', 'glare-retry', 'transfer-timeout', 'refer-timeout'] as const;

export function endCall(out: Out, now: number, cause: string, event: DialogEvent['event'], status?: number, reason?: string): void {
  out.set(
    {
      phase: 'ended',
      state: 'terminated',
      ended: { cause, status, at: now },
      pending2xx: undefined,
      incoming: undefined,
      outgoing: undefined,
      referOut: undefined,
      referIn: undefined,
      reliable: { ...out.rec.reliable, pending: undefined, queued: [], deferredAnswer: undefined },
    },
    now,
  );
  out.cancel(...ALL_TIMERS);
  out.events.push({
    event,
    cause,
    ...(status === undefined ? {} : { status }),
    ...(reason === undefined ? {} : { reason }),
  });
}
