/**
 * Runs one step of a call against KV with compare-and-set: read the entry with its revision, let
 * the core compute a Transition, write the new entry only if nobody wrote in between (else start
 * over with the fresh entry), and only then perform the outputs (responses, requests, events,
 * timers). So the side effects of a step happen once, on the instance whose write won: that is
 * what makes `ended` published exactly once when two instances race.
 */
import type { DialogRecord, TimerName, Transition } from '../dialog/types.js';
import type { ResponseSpec } from '../sip-view.js';
import { earliestTimer, type CallEntry } from '../store/call-store.js';
import type { Stored } from '../store/kv-records.js';
import type { RequestOrigin, UaContext } from './context.js';
import { requestWithoutOwnContact, responseWithoutOwnContact } from './contact.js';
import { publishCallEvent } from './events.js';
import { sendResponse } from './send.js';
import { encodeRequest } from './sip-encode.js';

/** What a step decided, before anything is written. */
export type StepDecision<R> =
  | { readonly kind: 'transition'; readonly transition: Transition; readonly result: R }
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
  /** Called with each response to a request this step sends. */
  readonly onResponse?: (call: string) => Parameters<UaContext['clients']['send']>[2];
}

/** The entry after a transition: new record, timers updated, flow of the latest request. */
export function nextEntry(entry: CallEntry, t: Transition, origin: RequestOrigin | undefined, deadlineFor?: (record: DialogRecord) => number | undefined): CallEntry {
  const timers: Partial<Record<TimerName, number>> = { ...entry.timers };
  for (const name of t.cancelTimers) delete timers[name];
  for (const spec of t.timers) if (!TRANSPORT_TIMERS.has(spec.name)) timers[spec.name] = spec.at;
  const { updateDeadline: oldDeadline, ...rest } = entry;
  const record = t.record ?? entry.dialog;
  const waiting = record.incoming !== undefined && !record.incoming.answered;
  const deadline = waiting ? (oldDeadline ?? deadlineFor?.(record)) : undefined;
  return {
    ...rest,
    ...(deadline === undefined ? {} : { updateDeadline: deadline }),
    dialog: record,
    timers,
    ...(origin === undefined ? {} : { flow: origin.flow, peerInstance: origin.instance }),
  };
}

export async function runStep<R>(ctx: UaContext, call: string, step: Step<R>, o: StepOptions = {}): Promise<StepOutcome<R>> {
  const attempts = o.attempts ?? 5;
  for (let i = 0; i < attempts; i++) {
    const stored = await ctx.calls.get(call);
    if (stored === undefined) return { kind: 'not-found' };
    const decision = step(stored.value);
    if (decision.kind === 'stop') return { kind: 'done', result: decision.result, entry: stored.value };
    const t = decision.transition;
    if (!t.changed || t.record === undefined) {
      await perform(ctx, stored.value, stored.value, t, o);
      return { kind: 'done', result: decision.result, entry: stored.value };
    }
    const next = nextEntry(stored.value, t, o.origin, updateDeadlineFor(ctx));
    const revision = await ctx.calls.update(next, stored.revision);
    if (revision === undefined) continue;
    await perform(ctx, stored.value, next, t, o);
    return { kind: 'done', result: decision.result, entry: next };
  }
  return { kind: 'conflict' };
}

/** Stores a brand-new call (its first transition) and performs the outputs. False when the id is taken. */
export async function createCall(ctx: UaContext, entry: CallEntry, t: Transition, o: StepOptions): Promise<Stored<CallEntry> | undefined> {
  const next = nextEntry(entry, t, undefined);
  const revision = await ctx.calls.create(next);
  if (revision === undefined) return undefined;
  await perform(ctx, { ...next, timers: {} }, next, t, o);
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
  const log = ctx.log.child({ call: record.call });
  for (const out of t.responses) {
    const method = cseqMethod(out.response);
    const r = { ...out, response: responseWithoutOwnContact(out.response, method, record.localTarget) };
    const retransmit2xx = method === 'INVITE' && r.response.status >= 200 && r.response.status < 300;
    try {
      if (r.target.to === 'invite') sendResponse(ctx, after.inviteInstance, record.invite.txn, method, r.response, { retransmit2xx });
      else if (r.target.to === 'request') {
        if (o.requestAnswered === true) continue;
        if (o.origin === undefined) log.warn({ status: r.response.status }, 'response for the current request without a request: dropped');
        else sendResponse(ctx, o.origin.instance, o.origin.txn, method, r.response, { retransmit2xx });
      } else sendResponse(ctx, after.peerInstance, r.target.txn, method, r.response, { retransmit2xx });
    } catch (err) {
      log.error({ err, status: r.response.status }, 'response not sent');
    }
  }
  for (const req of t.requests) {
    try {
      const raw = encodeRequest(requestWithoutOwnContact(req, record.localTarget), [['User-Agent', ctx.policy.userAgent]]);
      const handler = o.onResponse?.(record.call) ?? (() => undefined);
      ctx.clients.send(after.flow, raw, handler);
    } catch (err) {
      log.error({ err, method: req.method }, 'request not sent');
    }
  }
  for (const ev of t.events) publishCallEvent(ctx, record, ev, after.headers === undefined ? undefined : { ...after.headers });
  const was = earliestTimer(before);
  const now = earliestTimer(after);
  if (was !== now) {
    try {
      await ctx.calls.markTimer(record.call, now);
    } catch (err) {
      // The sweep finds the call again at its next step; the local timer still fires here.
      log.warn({ err }, 'timer mark not written');
    }
  }
  if (now !== undefined) ctx.scheduleLocal(record.call, now);
}

