/**
 * Outbound calls (the `originate` command), the wiring of the pure UAC session (uac/):
 *
 * - The INVITE goes to `<p>.out` (any transport instance, queue group) with a reply subject; each
 *   ResponseEnvelope of its client transaction (the listener stays open until the timeout, so every
 *   2xx of a forked INVITE is seen) is fed to `handleUacResponse`, a locally generated one (408 on
 *   Timer B, 503) to `handleUacLocalFinal`.
 * - The first response tells which transport instance holds the INVITE transaction, its flow and
 *   its top Via. CANCEL repeats that Via (RFC 3261 §9.1) and goes to that instance, which sends it
 *   on the INVITE's branch; ACK (statelessly, no reply subject), PRACK and the BYE of extra forks go
 *   through the same instance and flow.
 * - Each step is a CAS write of the `uac.<call>` entry; only the winner sends and publishes.
 * - The 2xx that confirms the dialog also creates the regular `call.<call>` entry (dialog role
 *   `uac`) and its dialog index, so the peer's BYE, re-INVITE, INFO, the controller's hangup and
 *   the session timers are served by any instance exactly as for inbound calls.
 * - Ring and cancel timeouts are local timers of the instance that armed them.
 * - Late offer (no SDP): the 2xx's offer comes in `answered` and its ACK waits for the answer (an
 *   `answer` command, uac/late-offer.ts); the call entry is created when that ACK is sent.
 */
import { REPLY_CODE, type FlowRef, type OriginateCommand, type ReplyCode, type ResponseEnvelope } from '@sipnats/contracts';
import { fromBase64 } from '@sipnats/contracts';
import { parseMessage, parseNameAddr, type SipResponse } from '@sipnats/sip-codec';
import { t1 } from '../dialog/builders.js';
import type { DialogCommand } from '../dialog/commands.js';
import type { TimerName, TimerSpec, Transition } from '../dialog/types.js';
import type { BindingRef } from '../registrar/unbind.js';
import { type CallEntry } from '../store/call-store.js';
import type { Stored } from '../store/kv-records.js';
import { UAC_ENTRY_VERSION, type UacEntry } from '../store/uac-store.js';
import { inviteTxnRef, UAC_TIMERS } from '../uac/builders.js';
import { callOfOutboundCallId } from '../uac/call-id.js';
import { handleUacCommand, handleUacTimer } from '../uac/control.js';
import { UacError } from '../uac/errors.js';
import { handleUacLocalFinal, handleUacResponse } from '../uac/response.js';
import { startOutboundCall } from '../uac/start.js';
import type { UacRecord, UacRequest, UacTarget, UacTimerName, UacTransition } from '../uac/types.js';
import { createCall } from './call-runner.js';
import { requestWithoutOwnContact } from './contact.js';
import type { UaContext } from './context.js';
import { publishCallEvent, type EventDialog } from './events.js';
import { handleFlowFailed } from './flow-gone.js';
import { responseFeeder } from './in-dialog.js';
import { encodeRequest } from './sip-encode.js';

/** Our Contact placeholder: dropped on the way out, the transport writes its advertised address. */
export const UAC_OWN_CONTACT = 'sip:sipnats@sipnats.invalid';

export type UacOutcome =
  | { readonly ok: true; readonly status?: number }
  /** `sipStatus`: the status a caller should get for this failure when it is not the code's default. */
  | { readonly ok: false; readonly code: ReplyCode; readonly error: string; readonly sipStatus?: number };

type Decision<R> = { readonly kind: 'transition'; readonly transition: UacTransition; readonly result: R } | { readonly kind: 'stop'; readonly result: R };

/** The Request-URI of an originate: `target`, else the URI of `to`. */
function requestUriOf(cmd: OriginateCommand): string {
  if (cmd.target !== undefined) return cmd.target;
  const to = cmd.to.trim();
  if (!to.includes('<')) return to;
  try {
    return parseNameAddr(to).uri.raw;
  } catch {
    return to;
  }
}

export async function originate(ctx: UaContext, cmd: OriginateCommand): Promise<UacOutcome> {
  if ((await ctx.calls.get(cmd.call)) !== undefined) return { ok: false, code: REPLY_CODE.CONFLICT, error: `call ${cmd.call} exists` };
  const c = cmd.credentials;
  return startLeg(ctx, {
    call: cmd.call,
    from: cmd.from,
    to: cmd.to,
    requestUri: requestUriOf(cmd),
    ...(cmd.sdp === undefined ? {} : { sdp: cmd.sdp }),
    ...(cmd.headers === undefined ? {} : { headers: cmd.headers }),
    ...(c === undefined ? {} : { credentials: { username: c.username, password: c.password, ...(c.realm === undefined ? {} : { realm: c.realm }) } }),
    ...(cmd.timeoutMs === undefined ? {} : { timeoutMs: cmd.timeoutMs }),
  });
}

/** One outbound INVITE leg: an originate, or a branch of a bridge. */
export interface LegInput {
  readonly call: string;
  readonly from: string;
  readonly to: string;
  readonly requestUri: string;
  /** The SDP offer; absent: a late offer (the answer to the 2xx's offer goes in the ACK). */
  readonly sdp?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Value of `X-Sipnats-Call` when it is not the leg's own id (a bridge leg naming its inbound call). */
  readonly callHeader?: string;
  readonly credentials?: { readonly username: string; readonly password: string; readonly realm?: string };
  readonly timeoutMs?: number;
  /** Pre-loaded route set (a registered contact's Path). */
  readonly route?: readonly string[];
  /** Send the INVITE through this transport instance (and this flow: a registered connection). */
  readonly pin?: { readonly instance: string; readonly flow?: FlowRef };
  /** The inbound call this leg is bridged to. */
  readonly bridgeOf?: string;
  /** The registered binding the leg calls (removed when the leg gets 430 Flow Failed). */
  readonly binding?: BindingRef;
  /** Max-Forwards of the INVITE (a bridge leg: the inbound INVITE's minus one); default the config's. */
  readonly maxForwards?: number;
}

export async function startLeg(ctx: UaContext, input: LegInput): Promise<UacOutcome> {
  let targets: UacTarget[] = [];
  if (ctx.resolveTargets !== undefined && (input.route === undefined || input.route.length === 0) && input.pin === undefined) {
    try {
      targets = await ctx.resolveTargets(input.requestUri);
    } catch (err) {
      ctx.log.warn({ err, call: input.call }, 'outbound target not resolved');
      return { ok: false, code: REPLY_CODE.INTERNAL, error: `cannot resolve ${input.requestUri.slice(0, 80)}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  let t: UacTransition;
  try {
    t = startOutboundCall(ctx.dialog, {
      call: input.call,
      from: input.from,
      to: input.to,
      requestUri: input.requestUri,
      ...(input.sdp === undefined ? {} : { sdp: input.sdp }),
      ...(input.headers === undefined ? {} : { headers: input.headers }),
      ...(input.callHeader === undefined ? {} : { callHeader: input.callHeader }),
      ...(input.credentials === undefined ? {} : { credentials: input.credentials }),
      ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
      ...(input.maxForwards === undefined ? {} : { maxForwards: input.maxForwards }),
      ...(input.route === undefined ? {} : { route: input.route }),
      ...(targets.length === 0 ? {} : { targets }),
      localContact: UAC_OWN_CONTACT,
      now: ctx.clock(),
      random: ctx.random,
    });
  } catch (err) {
    if (err instanceof UacError) return { ok: false, code: REPLY_CODE.INVALID, error: err.message };
    throw err;
  }
  const before: UacEntry = {
    v: UAC_ENTRY_VERSION,
    uac: t.record,
    timers: {},
    ...(input.headers === undefined ? {} : { headers: input.headers }),
    ...(input.bridgeOf === undefined ? {} : { bridgeOf: input.bridgeOf }),
    ...(input.binding === undefined ? {} : { binding: input.binding }),
    ...(input.pin === undefined ? {} : { instance: input.pin.instance, ...(input.pin.flow === undefined ? {} : { flow: input.pin.flow, pinFlow: true }) }),
  };
  const next = withTimers(before, t);
  if ((await ctx.uacs.create(next)) === undefined) return { ok: false, code: REPLY_CODE.CONFLICT, error: `call ${input.call} exists` };
  await perform(ctx, before, next, t);
  return { ok: true };
}

/** A controller command for an outbound call that has no dialog entry yet (hangup = CANCEL). */
export async function uacCommand(ctx: UaContext, call: string, command: DialogCommand): Promise<UacOutcome | undefined> {
  const r = await uacStep<UacOutcome | undefined>(ctx, call, (entry) => {
    const o = handleUacCommand(ctx.dialog, entry.uac, command, ctx.clock());
    if (!o.ok) return { kind: 'stop', result: { ok: false, code: o.code, error: o.error } };
    return { kind: 'transition', transition: o.transition, result: { ok: true, ...(o.status === undefined ? {} : { status: o.status }) } };
  });
  if (r.kind === 'not-found') return undefined;
  if (r.kind === 'conflict') return { ok: false, code: REPLY_CODE.CONFLICT, error: 'the call kept changing; try again' };
  return r.result;
}

function withTimers(entry: UacEntry, t: UacTransition): UacEntry {
  const timers: Partial<Record<UacTimerName, number>> = { ...entry.timers };
  for (const name of t.cancelTimers) delete timers[name];
  for (const spec of t.timers) if (UAC_TIMERS.includes(spec.name)) timers[spec.name] = spec.at;
  // Credentials are needed only while the INVITE may be challenged: not kept in KV after that.
  const done = t.record.phase === 'confirmed' || t.record.phase === 'ended';
  const uac = done && t.record.credentials !== undefined ? { ...t.record, credentials: undefined } : t.record;
  return { ...entry, uac, timers };
}

type UacStepOutcome<R> = { readonly kind: 'done'; readonly result: R } | { readonly kind: 'not-found' } | { readonly kind: 'conflict' };

/** Steps of one outbound call on this instance run one after another (other instances race through CAS). */
const lanes = new WeakMap<UaContext['uacs'], Map<string, Promise<unknown>>>();

function uacStep<R>(ctx: UaContext, call: string, decide: (entry: UacEntry) => Decision<R>, learn?: (entry: UacEntry) => UacEntry): Promise<UacStepOutcome<R>> {
  let map = lanes.get(ctx.uacs);
  if (map === undefined) {
    map = new Map();
    lanes.set(ctx.uacs, map);
  }
  const m = map;
  const now = (): Promise<UacStepOutcome<R>> => uacStepNow(ctx, call, decide, learn);
  const before = m.get(call);
  const run = before === undefined ? now() : before.then(now, now);
  m.set(call, run);
  const done = (): void => {
    if (m.get(call) === run) m.delete(call);
  };
  run.then(done, done);
  return run;
}

/**
 * One CAS step of an outbound call. As for call entries (call-runner.ts), the first attempt starts
 * from the entry this instance remembers, and a decision that writes nothing is taken again on a
 * fresh read: only a successful write proves the remembered entry was current.
 */
async function uacStepNow<R>(ctx: UaContext, call: string, decide: (entry: UacEntry) => Decision<R>, learn?: (entry: UacEntry) => UacEntry): Promise<UacStepOutcome<R>> {
  let remembered = ctx.uacs.cached(call);
  for (let i = 0; i < 5; ) {
    const fromCache = remembered !== undefined;
    const stored: Stored<UacEntry> | undefined = remembered ?? (await ctx.uacs.get(call));
    remembered = undefined;
    if (stored === undefined) return { kind: 'not-found' };
    const base = learn === undefined ? stored.value : learn(stored.value);
    const decision = decide(base);
    const writes = decision.kind === 'transition' && (decision.transition.changed || base !== stored.value);
    if (!writes && fromCache) continue; // decide again on a fresh read (not counted as an attempt)
    if (decision.kind === 'stop') return { kind: 'done', result: decision.result };
    const t = decision.transition;
    if (!writes) {
      await perform(ctx, base, base, t);
      return { kind: 'done', result: decision.result };
    }
    i++;
    const next = withTimers(base, t);
    if ((await ctx.uacs.update(next, stored.revision)) === undefined) continue;
    await perform(ctx, stored.value, next, t);
    return { kind: 'done', result: decision.result };
  }
  return { kind: 'conflict' };
}

function parseResponse(env: ResponseEnvelope): SipResponse | undefined {
  if (env.raw === undefined) return undefined;
  try {
    const m = parseMessage(fromBase64(env.raw));
    return m.kind === 'response' ? (m as SipResponse) : undefined;
  } catch {
    return undefined;
  }
}

/** Feeds each response of one INVITE client transaction to the session. */
function inviteResponses(ctx: UaContext, call: string, txnRef: string): (env: ResponseEnvelope) => void {
  return (env) => {
    const response = parseResponse(env);
    if (env.raw !== undefined && response === undefined) {
      ctx.log.warn({ call, status: env.status }, 'unparseable response to our INVITE dropped');
      return;
    }
    const learn = (entry: UacEntry): UacEntry => {
      const via = response?.via[0]?.raw;
      if (response === undefined || via === undefined || txnRef !== inviteTxnRef(entry.uac)) return entry;
      if (entry.via?.txnRef === txnRef && entry.instance === env.instance) return entry;
      return { ...entry, instance: env.instance, via: { txnRef, value: via }, ...(env.flow === undefined ? {} : { flow: env.flow }) };
    };
    const decide = (entry: UacEntry): Decision<undefined> => {
      const now = ctx.clock();
      const transition =
        response === undefined
          ? handleUacLocalFinal(ctx.dialog, entry.uac, {
              txnRef,
              status: env.status,
              reason: env.reason,
              ...(env.timeout === undefined ? {} : { timeout: env.timeout }),
              ...(env.error === undefined ? {} : { error: env.error }),
            }, now)
          : handleUacResponse(ctx.dialog, entry.uac, response, { now, random: ctx.random });
      return { kind: 'transition', transition, result: undefined };
    };
    uacStep(ctx, call, decide, learn).catch((err: unknown) => ctx.log.warn({ err, call, status: env.status }, 'response to our INVITE not applied'));
  };
}

function eventDialog(r: UacRecord): EventDialog {
  const remoteTag = r.answered?.remoteTag ?? r.awaiting?.leg.remoteTag ?? r.early[0]?.remoteTag ?? '';
  return { role: 'uac', call: r.call, callId: r.callId, localTag: r.localTag, remoteTag, localUri: r.localUri, remoteUri: r.remoteUri };
}

const ignore = (): void => undefined;

function send(ctx: UaContext, entry: UacEntry, req: UacRequest): void {
  const call = entry.uac.call;
  let spec: UacRequest = req;
  if (req.purpose === 'cancel') {
    // §9.1: the CANCEL's top Via is the INVITE's; the transport recognises its own branch.
    if (entry.via === undefined || entry.via.txnRef !== req.cancels) {
      ctx.log.warn({ call }, 'CANCEL not sent: the INVITE transaction is not known yet');
      return;
    }
    spec = { ...req, headers: [['Via', entry.via.value], ...req.headers] };
  }
  const raw = encodeRequest(requestWithoutOwnContact(spec, UAC_OWN_CONTACT), [['User-Agent', ctx.policy.userAgent]]);
  const target = req.target === undefined ? {} : { target: req.target };
  const pinned = {
    ...(entry.instance === undefined ? {} : { instance: entry.instance }),
    ...(entry.flow === undefined ? {} : { flow: entry.flow }),
  };
  switch (req.purpose) {
    case 'invite':
      // Pinned to the instance of the first attempt (auth retry) or of the registered contact's flow.
      ctx.clients.sendVia({ ...target, ...(entry.pinFlow === true ? pinned : entry.instance === undefined ? {} : { instance: entry.instance }), keepAfterFinal: true }, raw, inviteResponses(ctx, call, req.txnRef ?? inviteTxnRef(entry.uac)));
      return;
    case 'cancel':
      ctx.clients.sendVia({ ...target, ...(entry.instance === undefined ? {} : { instance: entry.instance }) }, raw, ignore);
      return;
    case 'ack':
      ctx.clients.sendVia(pinned, raw);
      return;
    default:
      ctx.clients.sendVia(pinned, raw, ignore);
  }
}

async function perform(ctx: UaContext, before: UacEntry, after: UacEntry, t: UacTransition): Promise<void> {
  const record = after.uac;
  if (t.failedTarget !== undefined) ctx.targetFailed?.(t.failedTarget);
  for (const req of t.requests) {
    try {
      send(ctx, after, req);
    } catch (err) {
      ctx.log.error({ err, call: record.call, method: req.method }, 'request not sent');
    }
  }
  if (before.uac.phase !== 'confirmed' && record.phase === 'confirmed') await promote(ctx, after, t);
  const headers = after.headers === undefined ? undefined : { ...after.headers };
  for (const ev of t.events) publishCallEvent(ctx, eventDialog(record), ev, headers);
  if (after.bridgeOf !== undefined && t.events.length > 0) {
    ctx.bridgeEvents?.({ call: record.call, bridgeOf: after.bridgeOf, ...(record.invite.sdp === undefined ? { lateOffer: true } : {}) }, t.events);
  }
  // RFC 5626 §7: a 430 (Flow Failed) says the registered flow is gone: that binding goes too.
  const binding = after.binding;
  if (binding !== undefined && t.events.some((ev) => ev.event === 'failed' && ev.status === 430)) {
    handleFlowFailed(ctx, binding).catch((err: unknown) => ctx.log.warn({ err, call: record.call }, 'binding of a failed flow not removed'));
  }
  scheduleTimers(ctx, after);
  if (record.phase === 'ended' || record.phase === 'confirmed') scheduleRemoval(ctx, record.call);
}

const DIALOG_TIMERS: ReadonlySet<string> = new Set<TimerName>(['session-refresh', 'session-expire', 'glare-retry']);

/** The confirmed dialog becomes a regular call entry served by the dialog core. */
async function promote(ctx: UaContext, entry: UacEntry, t: UacTransition): Promise<void> {
  const dialog = entry.uac.dialog;
  if (dialog === undefined || entry.flow === undefined || entry.instance === undefined) {
    ctx.log.error({ call: entry.uac.call }, 'confirmed outbound call without dialog or flow: not stored as a call');
    return;
  }
  const call: CallEntry = {
    v: 1,
    dialog,
    flow: entry.flow,
    inviteInstance: entry.instance,
    peerInstance: entry.instance,
    ...(entry.headers === undefined ? {} : { headers: entry.headers }),
    ...(entry.bridgeOf === undefined ? {} : { bridgeOf: entry.bridgeOf }),
    timers: {},
  };
  const timers = t.timers.filter((s): s is TimerSpec => DIALOG_TIMERS.has(s.name));
  const transition: Transition = { record: dialog, changed: true, responses: [], requests: [], events: [], timers, cancelTimers: [] };
  try {
    // Our Call-ID names the call (uac/call-id.ts): no index to write, unless it is not ours.
    if (callOfOutboundCallId(dialog.callId) !== dialog.call) await ctx.calls.claimIndex(dialog.callId, dialog.remoteTag, dialog.call);
    if ((await createCall(ctx, call, transition, { onResponse: responseFeeder(ctx) })) === undefined) {
      ctx.log.warn({ call: dialog.call }, 'outbound call already stored as a call');
    }
  } catch (err) {
    ctx.log.error({ err, call: dialog.call }, 'confirmed outbound call not stored');
  }
}

/** Local timers of outbound calls (ring and cancel timeouts, removal of the UAC entry). */
const localTimers = new WeakMap<UaContext['uacs'], Map<string, NodeJS.Timeout>>();
const removals = new WeakMap<UaContext['uacs'], Map<string, NodeJS.Timeout>>();
/** Outbound calls with a local timer on one instance at most (the map is keyed by our own calls). */
const MAX_LOCAL = 100_000;

function timerMap(store: WeakMap<UaContext['uacs'], Map<string, NodeJS.Timeout>>, ctx: UaContext): Map<string, NodeJS.Timeout> {
  let m = store.get(ctx.uacs);
  if (m === undefined) {
    m = new Map();
    store.set(ctx.uacs, m);
  }
  return m;
}

function scheduleTimers(ctx: UaContext, entry: UacEntry): void {
  const call = entry.uac.call;
  const m = timerMap(localTimers, ctx);
  const old = m.get(call);
  if (old !== undefined) clearTimeout(old);
  m.delete(call);
  const due = Math.min(...Object.values(entry.timers).filter((v): v is number => v !== undefined));
  if (!Number.isFinite(due) || m.size >= MAX_LOCAL) return;
  const timer = setTimeout(() => {
    if (m.get(call) === timer) m.delete(call);
    fireTimers(ctx, call).catch((err: unknown) => ctx.log.warn({ err, call }, 'outbound call timer failed'));
  }, Math.max(0, due - ctx.clock()));
  timer.unref();
  m.set(call, timer);
}

async function fireTimers(ctx: UaContext, call: string): Promise<void> {
  await uacStep<undefined>(ctx, call, (entry) => {
    const now = ctx.clock();
    const due = UAC_TIMERS.find((n) => (entry.timers[n] ?? Number.POSITIVE_INFINITY) <= now);
    if (due === undefined) return { kind: 'stop', result: undefined };
    ctx.metrics.timersFired.inc({ timer: due });
    const t = handleUacTimer(ctx.dialog, entry.uac, due, now);
    return { kind: 'transition', transition: { ...t, changed: true, cancelTimers: [...t.cancelTimers, due] }, result: undefined };
  });
  // The step wrote (remembered) or read afresh: what this instance knows is current enough here.
  const after = ctx.uacs.cached(call) ?? (await ctx.uacs.get(call));
  if (after !== undefined) scheduleTimers(ctx, after.value);
}

/** The UAC entry of a call that ended or was confirmed goes after 64·T1 (late 2xx of forks are ACKed until then). */
function scheduleRemoval(ctx: UaContext, call: string): void {
  const m = timerMap(removals, ctx);
  if (m.has(call) || m.size >= MAX_LOCAL) return;
  const timer = setTimeout(() => {
    m.delete(call);
    ctx.uacs.delete(call).catch((err: unknown) => ctx.log.warn({ err, call }, 'outbound call entry not removed'));
  }, 64 * t1(ctx.dialog));
  timer.unref();
  m.set(call, timer);
}
