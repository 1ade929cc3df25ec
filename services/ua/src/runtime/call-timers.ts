/**
 * The core's call timers (no-answer, reliable provisional retransmission, ACK wait, session
 * refresh/expiry, glare retry) and the update-policy deadline. Their due times live in the call's
 * KV entry, so they survive the instance that armed them:
 *
 * - the instance that arms a timer also sets a local setTimeout for precision;
 * - every instance sweeps the `tmr.*` marks periodically and fires what is due.
 *
 * Firing is a CAS step like any other: two instances firing the same timer cannot both win, and
 * the loser sees the timer gone when it reads again.
 */
import { handleTimer } from '../dialog/timers.js';
import type { TimerName } from '../dialog/types.js';
import { runStep } from '../handlers/call-runner.js';
import type { UaContext } from '../handlers/context.js';
import { acceptPendingOffer, responseFeeder } from '../handlers/in-dialog.js';
import { isUnavailable } from '../errors.js';

/** Most timers fired for one call in one go (a backlog after a long outage). */
const MAX_FIRED_PER_RUN = 16;

function dueTimer(timers: Readonly<Partial<Record<TimerName, number>>>, now: number): TimerName | undefined {
  let best: TimerName | undefined;
  let bestAt = Infinity;
  for (const [name, at] of Object.entries(timers) as [TimerName, number | undefined][]) {
    if (at !== undefined && at <= now && at < bestAt) {
      best = name;
      bestAt = at;
    }
  }
  return best;
}

/** Fires every due timer of `call`. */
export async function fireDueTimers(ctx: UaContext, call: string): Promise<void> {
  for (let i = 0; i < MAX_FIRED_PER_RUN; i++) {
    const outcome = await runStep(
      ctx,
      call,
      (entry) => {
        const now = ctx.clock();
        const name = dueTimer(entry.timers, now);
        if (name === undefined) return { kind: 'stop', result: undefined as TimerName | undefined };
        const t = handleTimer(ctx.dialog, entry.dialog, name, now);
        return {
          kind: 'transition',
          // The fired timer leaves the entry unless the core armed it again.
          transition: { ...t, record: t.record ?? entry.dialog, changed: true, cancelTimers: [name, ...t.cancelTimers] },
          result: name as TimerName | undefined,
        };
      },
      { onResponse: responseFeeder(ctx) },
    );
    if (outcome.kind !== 'done' || outcome.result === undefined) break;
    ctx.metrics.timersFired.inc({ timer: outcome.result });
  }
  const entry = await ctx.calls.get(call);
  const deadline = entry?.value.updateDeadline;
  if (deadline !== undefined && deadline <= ctx.clock()) {
    ctx.metrics.timersFired.inc({ timer: 'update-accept' });
    await acceptPendingOffer(ctx, call);
  }
}

export interface CallTimersOptions {
  readonly ctx: () => UaContext;
  /** Most local timers kept; beyond it the sweep alone fires timers. */
  readonly maxLocal: number;
  readonly sweepIntervalMs: number;
  /** Most calls looked at per sweep. */
  readonly sweepBatch: number;
  /** Runs a job through the work queue (false: refused, try at the next sweep). */
  readonly submit: (job: () => Promise<void>) => boolean;
}

export class CallTimers {
  readonly #o: CallTimersOptions;
  readonly #local = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  #stopped = false;

  constructor(o: CallTimersOptions) {
    this.#o = o;
  }

  get localCount(): number {
    return this.#local.size;
  }

  /** Fires the timers of `call` locally at `at` (keeps the earlier of two schedules). */
  schedule(call: string, at: number): void {
    if (this.#stopped) return;
    const existing = this.#local.get(call);
    if (existing !== undefined) {
      if (existing.at <= at) return;
      clearTimeout(existing.timer);
      this.#local.delete(call);
    }
    if (this.#local.size >= this.#o.maxLocal) return;
    const delay = Math.max(0, at - this.#o.ctx().clock());
    const timer = setTimeout(() => {
      this.#local.delete(call);
      this.#run(call);
    }, delay);
    timer.unref();
    this.#local.set(call, { at, timer });
  }

  start(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => void this.sweep(), this.#o.sweepIntervalMs);
    this.#sweeper.unref();
  }

  /** One sweep over the timer marks in KV. */
  async sweep(): Promise<void> {
    if (this.#sweeping || this.#stopped) return;
    this.#sweeping = true;
    const ctx = this.#o.ctx();
    try {
      const calls = await ctx.calls.timerCalls(this.#o.sweepBatch);
      for (const call of calls) if (!this.#local.has(call)) this.#run(call);
    } catch (err) {
      if (isUnavailable(err)) ctx.log.warn({ err: (err as Error).message }, 'timer sweep: KV unavailable');
      else ctx.log.error({ err }, 'timer sweep failed');
    } finally {
      this.#sweeping = false;
    }
  }

  #run(call: string): void {
    const ctx = this.#o.ctx();
    const accepted = this.#o.submit(async () => {
      try {
        await fireDueTimers(ctx, call);
      } catch (err) {
        if (isUnavailable(err)) ctx.log.warn({ call, err: (err as Error).message }, 'call timer: KV unavailable; the sweep retries');
        else ctx.log.error({ err, call }, 'call timer failed');
      }
    });
    if (!accepted) ctx.log.debug({ call }, 'call timer deferred to the next sweep (queue full)');
  }

  stop(): void {
    this.#stopped = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const { timer } of this.#local.values()) clearTimeout(timer);
    this.#local.clear();
  }
}
