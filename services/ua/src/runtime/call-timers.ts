/**
 * The core's call timers (no-answer, reliable provisional retransmission, ACK wait, session
 * refresh/expiry, glare retry), the update-policy deadline and the removal of ended calls. Their
 * due times live in the call's KV entry, so they survive the instance that armed them:
 *
 * - the instance that arms a timer also sets a local setTimeout for precision;
 * - every instance sweeps the timer marks of the seconds that passed (`tmr.<second>.<call>`) and
 *   fires what is due; a mark found early is moved to the call's next due time, a mark whose call
 *   is gone is dropped.
 *
 * Firing is a CAS step like any other: two instances firing the same timer cannot both win, and
 * the loser sees the timer gone when it reads again.
 */
import { handleTimer } from '../dialog/timers.js';
import type { TimerName } from '../dialog/types.js';
import { runStep, type StepOutcome } from '../handlers/call-runner.js';
import type { UaContext } from '../handlers/context.js';
import { acceptPendingOffer, responseFeeder } from '../handlers/in-dialog.js';
import { isUnavailable } from '../errors.js';
import { LocalRetries } from './timer-retry.js';
import { earliestTimer, markedDue, markSlot, removalTicket, type DueMark, type RemovalTicket } from '../store/call-store.js';
import { ORPHAN_AFTER_MS, type RemovalBook } from './removals.js';

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

/** Removes an ended call once its removal time passed (CAS on the entry; a changed entry is read again). */
export async function removeEnded(ctx: UaContext, call: string, first: RemovalTicket | undefined): Promise<void> {
  let ticket = first;
  for (let i = 0; i < 3; i++) {
    if (ticket === undefined) {
      const stored = await ctx.calls.get(call);
      if (stored === undefined) {
        ctx.removals?.done(call); // removed meanwhile (by another instance)
        return;
      }
      ticket = removalTicket(stored);
    }
    if (ticket === undefined || ticket.removeAt > ctx.clock()) return;
    if (await ctx.calls.remove(ticket)) {
      ctx.metrics.timersFired.inc({ timer: 'remove' });
      ctx.removals?.done(call);
      return;
    }
    ticket = undefined;
  }
}

/** Fires every due timer of `call`; `mark`: the sweep found the call through this mark. */
export async function fireDueTimers(ctx: UaContext, call: string, mark?: DueMark): Promise<void> {
  const ended = ctx.calls.removalTicket(call);
  if (ended !== undefined) {
    if (ended.removeAt <= ctx.clock()) {
      await removeEnded(ctx, call, ended);
      return;
    }
    // Woken by the local timer: an ended call has nothing else due (its end cancelled every timer).
    if (mark === undefined) {
      ctx.scheduleLocal(call, ended.removeAt);
      return;
    }
  }
  let last: StepOutcome<TimerName | undefined> | undefined;
  for (let i = 0; i < MAX_FIRED_PER_RUN; i++) {
    last = await runStep(
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
      // Fired by this instance's local timer: its remembered entry says what is due. Through a mark
      // (the sweep), the stored entry decides: the instance that armed the timer may be gone.
      { onResponse: responseFeeder(ctx), trustRememberedStop: mark === undefined },
    );
    if (last.kind !== 'done' || last.result === undefined) break;
    ctx.metrics.timersFired.inc({ timer: last.result });
  }
  if (last?.kind === 'not-found') {
    if (mark !== undefined) await ctx.calls.dropMark(mark); // left behind by an instance that died mid-removal
    return;
  }
  const entry = last?.kind === 'done' ? last.entry : undefined;
  if (entry === undefined) return;
  const now = ctx.clock();
  if (entry.updateDeadline !== undefined && entry.updateDeadline <= now) {
    ctx.metrics.timersFired.inc({ timer: 'update-accept' });
    await acceptPendingOffer(ctx, call);
    return;
  }
  if (entry.removeAt !== undefined && entry.removeAt <= now) {
    await removeEnded(ctx, call, undefined);
    return;
  }
  const due = earliestTimer(entry);
  const marked = markedDue(entry);
  if (entry.markAt !== undefined && entry.markAt <= now && (marked === undefined || marked > entry.markAt)) await remark(ctx, call);
  // The next due time (e.g. the removal of an ended call): locally, so the sweep need not find it.
  if (due !== undefined && due > now) ctx.scheduleLocal(call, due);
}

/** The mark was early (nothing due yet): move it to the call's next due time (none: drop it). */
async function remark(ctx: UaContext, call: string): Promise<void> {
  await runStep(
    ctx,
    call,
    (entry) => {
      const due = markedDue(entry);
      if (entry.markAt === undefined || (due !== undefined && due <= entry.markAt)) return { kind: 'stop', result: undefined };
      const transition = { record: entry.dialog, changed: true, responses: [], requests: [], events: [], timers: [], cancelTimers: [] };
      return { kind: 'transition', transition, result: undefined };
    },
    { remark: true },
  );
}

export interface CallTimersOptions {
  readonly ctx: () => UaContext;
  /** This instance's removal lists (flushed by the sweep); absent: ended calls are removed by local timers only. */
  readonly removals?: RemovalBook;
  /** Every this often the sweep looks for removal lists left by instances that died (default 30 s). */
  readonly orphanScanMs?: number;
  /** Calls removed at once from an orphaned list (default 32). */
  readonly orphanConcurrency?: number;
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
  /**
   * Calls whose firing job waits in the work queue, not started yet: another firing would find
   * what that one will (it reads the call when it starts), so it is not queued twice. Under load
   * the sweep would otherwise queue a due call again every second while its job waits.
   */
  readonly #waiting = new Set<string>();
  /** Calls whose local firing failed, with the failures so far (timer-retry.ts). */
  readonly #retries = new LocalRetries();
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  #stopped = false;
  #orphaning = false;
  #lastOrphanScan = Number.NEGATIVE_INFINITY;

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
      const marks = await ctx.calls.dueMarks(ctx.clock(), this.#o.sweepBatch);
      for (const mark of marks) if (!this.#local.has(mark.call)) this.#run(mark.call, mark);
      await this.#o.removals?.flush(ctx.clock());
      const now = ctx.clock();
      if (this.#o.removals !== undefined && now - this.#lastOrphanScan >= (this.#o.orphanScanMs ?? 30_000)) {
        this.#lastOrphanScan = now;
        void this.removeOrphans();
      }
    } catch (err) {
      if (isUnavailable(err)) ctx.log.warn({ err: (err as Error).message }, 'timer sweep: KV unavailable');
      else ctx.log.error({ err }, 'timer sweep failed');
    } finally {
      this.#sweeping = false;
    }
  }

  /**
   * Removes the calls of removal lists that their instance left behind (it died, or could not
   * remove them in time), then the lists. Each call only if it ended and its time passed.
   */
  async removeOrphans(): Promise<void> {
    const book = this.#o.removals;
    if (book === undefined || this.#orphaning || this.#stopped) return;
    this.#orphaning = true;
    const ctx = this.#o.ctx();
    try {
      const refs = await ctx.calls.removalLists(markSlot(ctx.clock() - ORPHAN_AFTER_MS), this.#o.sweepBatch);
      const width = this.#o.orphanConcurrency ?? 32;
      for (const ref of refs) {
        if (this.#stopped) return;
        if (ref.instance === ctx.instance && book.tracks(ref.slot)) continue;
        const calls = (await ctx.calls.readRemovals(ref)) ?? [];
        for (let i = 0; i < calls.length; i += width) {
          await Promise.all(calls.slice(i, i + width).map((call) => removeEnded(ctx, call, undefined)));
        }
        await ctx.calls.dropRemovals(ref);
        if (calls.length > 0) ctx.log.info({ instance: ref.instance, slot: ref.slot, calls: calls.length }, 'ended calls of a removal list left behind removed');
      }
    } catch (err) {
      if (isUnavailable(err)) ctx.log.warn({ err: (err as Error).message }, 'orphaned removal lists: KV unavailable');
      else ctx.log.error({ err }, 'orphaned removal lists not processed');
    } finally {
      this.#orphaning = false;
    }
  }

  #run(call: string, mark?: DueMark): void {
    if (this.#waiting.has(call)) return;
    const ctx = this.#o.ctx();
    this.#waiting.add(call);
    const accepted = this.#o.submit(async () => {
      this.#waiting.delete(call);
      try {
        await fireDueTimers(ctx, call, mark);
        this.#retries.succeeded(call);
      } catch (err) {
        if (isUnavailable(err)) ctx.log.warn({ call, err: (err as Error).message }, 'call timer: KV unavailable; retried here and by the sweep');
        else ctx.log.error({ err, call }, 'call timer failed');
        this.#retryLocally(call);
      }
    });
    if (!accepted) {
      this.#waiting.delete(call);
      ctx.log.debug({ call }, 'call timer deferred (queue full)');
      this.#retryLocally(call);
    }
  }

  /**
   * A firing that failed (KV unavailable during a NATS failover) or was refused (queue full) is
   * tried again here soon, not only by the sweep: the sweep finds the call only through its KV
   * mark, which the same outage may have kept from being written. So a due timer (no-answer: the
   * configured final response) goes out as soon as KV answers again.
   */
  #retryLocally(call: string): void {
    const delay = this.#retries.failed(call, this.#o.maxLocal);
    if (delay !== undefined) this.schedule(call, this.#o.ctx().clock() + delay);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const { timer } of this.#local.values()) clearTimeout(timer);
    this.#local.clear();
    this.#waiting.clear();
    this.#retries.clear();
  }
}
