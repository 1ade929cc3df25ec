/**
 * Runs one step of a call against KV with compare-and-set: take the entry with its revision, let
 * the core compute a Transition, write the new entry only if nobody wrote in between (else start
 * over with the fresh entry), and only then perform the outputs (responses, requests, events,
 * timers). So the side effects of a step happen once, on the instance whose write won: that is
 * what makes `ended` published exactly once when two instances race.
 *
 * The first attempt starts from the entry this instance last read or wrote (no KV read): if another
 * instance wrote since, the CAS write fails and the step runs again on a fresh read. A decision
 * that writes nothing (stop, unchanged) is never taken on a remembered entry: it is taken again on
 * a fresh read, because only a successful write proves the entry was current.
 */
import { t1 } from '../dialog/builders.js';
import type { DialogRecord, TimerName, Transition } from '../dialog/types.js';
import type { ResponseSpec } from '../sip-view.js';
import { earliestTimer, markedDue, type BridgeState, type CallEntry, type CallStore } from '../store/call-store.js';
import type { Stored } from '../store/kv-records.js';
import type { RequestOrigin, UaContext } from './context.js';
import { requestWithoutOwnContact, responseWithoutOwnContact } from './contact.js';
import { publishCallEvent } from './events.js';
import { sendResponse } from './send.js';
import { encodeRequest } from './sip-encode.js';

/** What a step decided, before anything is written. */
export type StepDecision<R> =
  | { readonly kind: 'transition'; readonly transition: Transition; readonly result: R; readonly bridge?: BridgeState }
  | { readonly kind: 'stop'; readonly result: R };

export type Step<R> = (entry: CallEntry) => StepDecision<R>;

export type StepOutcome<R> =
  | { readonly kind: 'done'; readonly result: R; readonly entry: CallEntry | undefined }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'conflict' };

/** The transport retransmits a 2xx to INVITE itself (OutMessage.retransmit2xx): no core timer for it. */
const TRANSPORT_TIMERS: ReadonlySet<TimerName> = new Set<TimerName>(['2xx-retransmit']);

export interface StepOptions {
  /** The request being handled (its server transaction gets `{ to: 'request' }` responses). */
  readonly origin?: RequestOrigin;
  /** Method of that request, for metrics. */
  readonly method?: string;
  /** Attempts when another instance wrote first. Default 5. */
  readonly attempts?: number;
  /** The transport already answered the current request (CANCEL): drop `{ to: 'request' }` responses. */
  readonly requestAnswered?: boolean;
  /**
   * A `stop` decided on the remembered entry is final (no fresh read). Only for a local timer: if
   * another instance armed something since, it set its own local timer and mark.
   */
  readonly trustRememberedStop?: boolean;
  /** Move the timer mark to the earliest due time even when that is later (see NextEntryOptions). */
  readonly remark?: boolean;
  /** Called with each response to a request this step sends. */
  readonly onResponse?: (call: string) => Parameters<UaContext['clients']['send']>[2];
}

export interface NextEntryOptions {
  /** Policy `controller`: the deadline of a new pending peer offer. */
  readonly deadlineFor?: ((record: DialogRecord) => number | undefined) | undefined;
  /** How long an ended call stays (absorbs retransmitted BYEs, late commands) before it is removed. */
  readonly removeAfterMs?: number | undefined;
  /** Put the mark at the earliest due time even when that is later than the mark (the sweep found it early). */
  readonly remark?: boolean | undefined;
}

/**
 * Where the call's timer mark goes: at the earliest due time when it has none or that time is
 * earlier than the mark; an early mark stays (the sweep moves it when it finds nothing due) unless
 * `exact`; nothing due (an ended call: its end cancelled every timer), no mark.
 */
export function nextMarkAt(previous: number | undefined, due: number | undefined, exact: boolean): number | undefined {
  if (due === undefined) return undefined;
  if (previous === undefined || due < previous || exact) return due;
  return previous;
}

/** The entry after a transition: new record, timers updated, flow of the latest request, mark placed. */
export function nextEntry(entry: CallEntry, t: Transition, origin: RequestOrigin | undefined, o: NextEntryOptions = {}): CallEntry {
  const timers: Partial<Record<TimerName, number>> = { ...entry.timers };
  for (const name of t.cancelTimers) delete timers[name];
  for (const spec of t.timers) if (!TRANSPORT_TIMERS.has(spec.name)) timers[spec.name] = spec.at;
  const { updateDeadline: oldDeadline, removeAt: oldRemoveAt, markAt: oldMarkAt, ...rest } = entry;
  const record = t.record ?? entry.dialog;
  const waiting = record.incoming !== undefined && !record.incoming.answered;
  const deadline = waiting ? (oldDeadline ?? o.deadlineFor?.(record)) : undefined;
  const ended = record.ended !== undefined;
  const removeAt = ended && o.removeAfterMs !== undefined ? (oldRemoveAt ?? record.ended.at + o.removeAfterMs) : oldRemoveAt;
  const base = {
    ...rest,
    ...(deadline === undefined ? {} : { updateDeadline: deadline }),
    ...(removeAt === undefined ? {} : { removeAt }),
    dialog: record,
    timers,
    ...(origin === undefined ? {} : { flow: origin.flow, peerInstance: origin.instance }),
  };
  const markAt = nextMarkAt(oldMarkAt, markedDue(base), o.remark === true);
  return { ...base, ...(markAt === undefined ? {} : { markAt }) };
}

/** How long an ended call stays in KV: 64·T1 (a peer's BYE retransmissions end by then, RFC 3261 Timer F). */
export function removeAfterMs(ctx: UaContext): number {
  return 64 * t1(ctx.dialog);
}

function entryOptions(ctx: UaContext, remark?: boolean): NextEntryOptions {
  return { deadlineFor: updateDeadlineFor(ctx), removeAfterMs: removeAfterMs(ctx), remark };
}

/**
 * Steps of one call on one instance run one after another (an ACK and a BYE sent back to back
 * would otherwise both start from the same entry, and one would lose its write and read again).
 * Other instances still race through CAS. Holds only calls with a step running or waiting.
 */
const callLanes = new WeakMap<CallStore, Map<string, Promise<unknown>>>();

export function runStep<R>(ctx: UaContext, call: string, step: Step<R>, o: StepOptions = {}): Promise<StepOutcome<R>> {
  let lanes = callLanes.get(ctx.calls);
  if (lanes === undefined) {
    lanes = new Map();
    callLanes.set(ctx.calls, lanes);
  }
  const map = lanes;
  const before = map.get(call);
  const run = before === undefined ? runStepNow(ctx, call, step, o) : before.then(() => runStepNow(ctx, call, step, o), () => runStepNow(ctx, call, step, o));
  map.set(call, run);
  const done = (): void => {
    if (map.get(call) === run) map.delete(call);
  };
  run.then(done, done);
  return run;
}

async function runStepNow<R>(ctx: UaContext, call: string, step: Step<R>, o: StepOptions): Promise<StepOutcome<R>> {
  const attempts = o.attempts ?? 5;
  let remembered = ctx.calls.cached(call);
  for (let i = 0; i < attempts; ) {
    const fromCache = remembered !== undefined;
    const stored = remembered ?? (await ctx.calls.get(call));
    remembered = undefined;
    if (stored === undefined) return { kind: 'not-found' };
    const decision = step(stored.value);
    const t = decision.kind === 'transition' ? decision.transition : undefined;
    const writes = t !== undefined && t.changed && t.record !== undefined;
    const trusted = o.trustRememberedStop === true && decision.kind === 'stop';
    if (!writes && fromCache && !trusted) continue; // decide again on a fresh read (does not count as an attempt)
    if (decision.kind === 'stop' || t === undefined) return { kind: 'done', result: decision.result, entry: stored.value };
    if (!writes) {
      await perform(ctx, stored.value, stored.value, t, o);
      return { kind: 'done', result: decision.result, entry: stored.value };
    }
    i++;
    const base = decision.kind === 'transition' && decision.bridge !== undefined ? { ...stored.value, bridge: decision.bridge } : stored.value;
    const next = nextEntry(base, t, o.origin, entryOptions(ctx, o.remark));
    const revision = await ctx.calls.update(next, stored.revision);
    if (revision === undefined) continue;
    await perform(ctx, stored.value, next, t, o);
    return { kind: 'done', result: decision.result, entry: next };
  }
  return { kind: 'conflict' };
}

/** Stores a brand-new call (its first transition) and performs the outputs. False when the id is taken. */
export async function createCall(ctx: UaContext, entry: CallEntry, t: Transition, o: StepOptions): Promise<Stored<CallEntry> | undefined> {
  const next = nextEntry(entry, t, undefined, entryOptions(ctx));
  const revision = await ctx.calls.create(next);
  if (revision === undefined) return undefined;
  const { markAt: _none, ...before } = next;
  await perform(ctx, { ...before, timers: {} }, next, t, o);
  return { value: next, revision };
}

/** With SIPNATS_UPDATE_POLICY=controller, a peer's offer waits for the controller until this time. */
function updateDeadlineFor(ctx: UaContext): ((record: DialogRecord) => number | undefined) | undefined {
  if (ctx.policy.updatePolicy !== 'controller') return undefined;
  return () => ctx.clock() + ctx.policy.updateTimeoutMs;
}

function cseqMethod(spec: ResponseSpec): string {
  const cseq = spec.headers.find(([n]) => n.toLowerCase() === 'cseq')?.[1] ?? '';
  return cseq.trim().split(/\s+/)[1]?.toUpperCase() ?? '';
}

async function perform(ctx: UaContext, before: CallEntry, after: CallEntry, t: Transition, o: StepOptions): Promise<void> {
  const record: DialogRecord = after.dialog;
  // A child logger costs (pino serialises its bindings): made only when something is logged.
  let child: UaContext['log'] | undefined;
  const log = (): UaContext['log'] => (child ??= ctx.log.child({ call: record.call }));
  for (const out of t.responses) {
    const method = cseqMethod(out.response);
    const r = { ...out, response: responseWithoutOwnContact(out.response, method, record.localTarget) };
    const retransmit2xx = method === 'INVITE' && r.response.status >= 200 && r.response.status < 300;
    try {
      if (r.target.to === 'invite') sendResponse(ctx, after.inviteInstance, record.invite.txn, method, r.response, { retransmit2xx });
      else if (r.target.to === 'request') {
        if (o.requestAnswered === true) continue;
        if (o.origin === undefined) log().warn({ status: r.response.status }, 'response for the current request without a request: dropped');
        else sendResponse(ctx, o.origin.instance, o.origin.txn, method, r.response, { retransmit2xx });
      } else sendResponse(ctx, after.peerInstance, r.target.txn, method, r.response, { retransmit2xx });
    } catch (err) {
      log().error({ err, status: r.response.status }, 'response not sent');
    }
  }
  for (const req of t.requests) {
    try {
      const raw = encodeRequest(requestWithoutOwnContact(req, record.localTarget), [['User-Agent', ctx.policy.userAgent]]);
      const handler = o.onResponse?.(record.call) ?? (() => undefined);
      ctx.clients.send(after.flow, raw, handler);
    } catch (err) {
      log().error({ err, method: req.method }, 'request not sent');
    }
  }
  for (const ev of t.events) publishCallEvent(ctx, record, ev, after.headers === undefined ? undefined : { ...after.headers });
  if (t.events.length > 0 && (after.bridge !== undefined || after.bridgeOf !== undefined)) {
    ctx.bridgeEvents?.(
      { call: record.call, ...(after.bridgeOf === undefined ? {} : { bridgeOf: after.bridgeOf }), ...(after.bridge === undefined ? {} : { legs: after.bridge.legs }) },
      t.events,
    );
  }
  await placeMark(ctx, record.call, before.markAt, after.markAt);
  // The instance that ends a call removes it; so does one that carries out an end again (a
  // repeated BYE: handlers/redelivery.ts), in case the first never noted it (noting is idempotent).
  if (after.removeAt !== undefined && (before.removeAt === undefined || t.events.some((e) => e.event === 'ended'))) ctx.removals?.note(record.call, after.removeAt);
  const due = earliestTimer(after);
  if (due !== undefined) ctx.scheduleLocal(record.call, due);
}

/** Moves the timer mark after a won write (a failure is logged: the local timer still fires here). */
export async function placeMark(ctx: UaContext, call: string, from: number | undefined, to: number | undefined): Promise<void> {
  if (from === to) return;
  try {
    await ctx.calls.moveMark(call, from, to);
  } catch (err) {
    ctx.log.warn({ err, call }, 'timer mark not written');
  }
}

