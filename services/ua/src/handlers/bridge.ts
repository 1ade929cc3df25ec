/**
 * Back-to-back user agent: the `bridge` command connects an inbound call (still ringing) to new
 * outbound legs. The target (the command's, else the inbound To URI) is looked up in the registrar:
 * every live contact gets a leg at once (parallel forking), through the transport instance that
 * holds its registration (and its flow when that is a connection); a target that is not a
 * registered AoR is called directly. The inbound offer SDP goes to every leg. Each leg's INVITE
 * carries `X-Sipnats-Call` with the leg's own id, or with the inbound call's id when the command's
 * headers ask for exactly that (`"X-Sipnats-Call": <call>`; any other value is refused): that is how
 * a sipnats-aware callee such as mod_sipnats ties its channel to the call it was offered. Each leg's
 * INVITE has the inbound INVITE's Max-Forwards minus one (at most the configured default), as a
 * proxy's would (RFC 3261 §16.6 step 3): when that is 0 the caller gets 483 Too Many Hops instead,
 * so a route or target that leads back to sipnats ends after a bounded number of hops.
 *
 * Reactions run on the instance whose write produced the event (so once), as commands on the other
 * side, each with its own CAS step:
 * - leg `ringing` / `early` → ring the inbound call (180 / 183 with the leg's SDP);
 * - leg `answered` → answer the inbound call with the leg's SDP; the first one wins, the other legs
 *   are hung up (CANCEL, or ACK+BYE when they answered too); a leg that loses gets BYE;
 * - leg `failed`/`cancelled` before an answer → noted on the inbound call; when every leg failed,
 *   the inbound call is rejected with the most telling status (486/600 busy first; a 430 from a
 *   registered connection that is gone is the proxy's business, never the caller's: 480);
 * - leg `ended` → the inbound call is hung up; inbound `cancelled`/`ended`/`failed` → every leg is;
 * - INFO (`info`, `dtmf`) on either side → INFO on the other;
 * - a peer's re-INVITE/UPDATE offer (`updated` without status) → re-INVITE with that SDP on the
 *   other side; its answer (`updated` with status) answers the pending offer, its refusal (a
 *   non-2xx: `failed` of the offer) refuses it with that status (§14.2; bridge-refusal.ts); when
 *   the other side cannot take it (no connected leg, an offer of its own in progress) the offer is
 *   accepted with the current SDP.
 *
 * Late offer (an inbound INVITE without SDP, RFC 3261 §13.2.1): the legs' INVITEs carry no SDP
 * either; the answering leg's 2xx offer goes to the caller in our 200, and that leg's ACK waits
 * (uac/late-offer.ts) for the answer in the caller's ACK (inbound `confirmed` → `answer` on the
 * leg). The caller never ACKs: the inbound ack-timeout (64·T1) ends it, and the leg gets ACK + BYE;
 * an ACK without an answer ends both (MANDATORY_IE_MISSING). A leg's early SDP is not relayed (it
 * would be an offer in a provisional): the caller gets 180.
 */
import { REPLY_CODE, SIP_HEADER_CALL, type BridgeCommand, type FlowRef } from '@sipnats/contracts';
import { parseNameAddr, parseUri } from '@sipnats/sip-codec';
import { runCallCommand } from '../control/call-command.js';
import { handleCommand } from '../dialog/commands.js';
import type { DialogRecord, Transition } from '../dialog/types.js';
import type { Flow } from '../registrar/binding.js';
import { canonicalAor } from '../registrar/aor.js';
import { locate } from '../registrar/location.js';
import type { BridgeState, CallEntry } from '../store/call-store.js';
import type { UacEvent } from '../uac/types.js';
import { runStep } from './call-runner.js';
import { legMaxForwards, tooManyHops } from './bridge-hops.js';
import { refusePendingOffer } from './bridge-refusal.js';
import type { BridgeSource, UaContext } from './context.js';
import { acceptPendingOffer, responseFeeder } from './in-dialog.js';
import { startLeg, type LegInput, type UacOutcome } from './outbound-call.js';
import { matchRoute } from './routes.js';

/** Legs of one bridge at most (contacts of an AoR are bounded by the registrar too). */
export const MAX_LEGS = 16;

/** A From/To value without its tag (the leg gets its own From tag; To has none in an INVITE). */
export function withoutTag(value: string): string {
  const na = parseNameAddr(value.includes('<') ? value : `<${value}>`);
  const display = na.displayName === undefined || na.displayName === '' ? '' : `"${na.displayName.replace(/["\\]/g, '')}" `;
  return `${display}<${na.uri.raw}>`;
}

interface LegTarget {
  readonly requestUri: string;
  readonly route: readonly string[];
  readonly pin?: LegInput['pin'];
  readonly credentials?: LegInput['credentials'];
  readonly binding?: LegInput['binding'];
}

const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** A stored binding's flow as a FlowRef (the registrar stores the envelope's FlowRef). */
function flowRef(f: Flow): FlowRef | undefined {
  if (!TRANSPORTS.has(f.transport)) return undefined;
  return { instance: f.instance, transport: f.transport as FlowRef['transport'], local: f.local, remote: f.remote, id: f.id, ...(f.token === undefined ? {} : { token: f.token }) };
}

async function targetsOf(ctx: UaContext, target: string, explicit: boolean): Promise<LegTarget[] | undefined> {
  let uri;
  try {
    uri = parseUri(target);
  } catch {
    return undefined;
  }
  const aor = canonicalAor(uri);
  const set = aor === undefined ? undefined : await ctx.bindings.get(aor);
  const registered = set?.value.aor ?? aor ?? '';
  const contacts = locate(set?.value, ctx.clock()).slice(0, MAX_LEGS);
  if (contacts.length === 0) {
    const routed = ctx.routes === undefined || uri.user === undefined ? undefined : matchRoute(ctx.routes, uri.user);
    if (routed !== undefined) {
      const c = routed.route.credentials;
      return [{ requestUri: routed.requestUri, route: [], ...(c === undefined ? {} : { credentials: c }) }];
    }
    return explicit ? [{ requestUri: target, route: [] }] : [];
  }
  return contacts.map((c) => {
    // A connection (or an RFC 5626 flow) is the only way back to the contact; over UDP the contact
    // address itself is used, through the instance that took the registration.
    const flow = c.flow.transport !== 'udp' || c.instanceId !== undefined ? flowRef(c.flow) : undefined;
    return {
      requestUri: c.contact,
      route: c.path,
      pin: { instance: c.flow.instance, ...(flow === undefined ? {} : { flow }) },
      binding: { aor: registered, contact: c.contact, flow: { instance: c.flow.instance, id: c.flow.id } },
    };
  });
}

/**
 * The `X-Sipnats-Call` a bridge's legs carry instead of their own ids: only the bridged call's id
 * may be asked for (a controller cannot tie the legs to another call). `undefined`: not asked for.
 */
export function bridgeCallHeader(cmd: Pick<BridgeCommand, 'call' | 'headers'>): { readonly ok: true; readonly value: string | undefined } | { readonly ok: false; readonly error: string } {
  const wanted = SIP_HEADER_CALL.toLowerCase();
  const values = Object.entries(cmd.headers ?? {}).filter(([name]) => name.toLowerCase() === wanted);
  if (values.length === 0) return { ok: true, value: undefined };
  if (values.length === 1 && values[0]?.[1] === cmd.call) return { ok: true, value: cmd.call };
  return { ok: false, error: `${SIP_HEADER_CALL} may only name the bridged call (${cmd.call.slice(0, 80)})` };
}

/** What a bridge will do, decided before anything is written. */
export type BridgePlan =
  /** Start these legs (the inbound call's entry gets `state`). */
  | { readonly kind: 'legs'; readonly state: BridgeState; readonly legs: readonly LegInput[] }
  /** Refused (nothing written): the command's outcome. */
  | { readonly kind: 'refuse'; readonly outcome: UacOutcome }
  /** Max-Forwards exhausted: the caller gets 483. */
  | { readonly kind: 'too-many-hops' };

function refuse(code: UacOutcome & { ok: false }): BridgePlan {
  return { kind: 'refuse', outcome: code };
}

/**
 * Plans the bridge of an inbound call from its entry (stored, or about to be: SIPNATS_ROUTING=bridge
 * plans before the INVITE's entry is written, so the bridge state goes in with it).
 */
export async function planBridge(ctx: UaContext, cmd: BridgeCommand, inboundEntry: CallEntry): Promise<BridgePlan> {
  const callHeader = bridgeCallHeader(cmd);
  if (!callHeader.ok) return refuse({ ok: false, code: REPLY_CODE.INVALID, error: callHeader.error });
  const inbound = inboundEntry.dialog;
  if (inbound.role !== 'uas' || (inbound.phase !== 'offered' && inbound.phase !== 'early')) {
    return refuse({ ok: false, code: REPLY_CODE.BAD_STATE, error: `only an inbound call that is not answered can be bridged (${inbound.role}, ${inbound.phase})` });
  }
  if (inboundEntry.bridge !== undefined) return refuse({ ok: false, code: REPLY_CODE.CONFLICT, error: 'the call is already bridged' });
  const maxForwards = legMaxForwards(inboundEntry.maxForwards);
  if (maxForwards < 1) return { kind: 'too-many-hops' };
  const sdp = inbound.remoteSdp;
  let to: string;
  let from: string;
  try {
    to = withoutTag(inbound.localUri);
    from = withoutTag(inbound.remoteUri);
  } catch {
    return refuse({ ok: false, code: REPLY_CODE.INVALID, error: 'the inbound From/To cannot be reused' });
  }
  const target = cmd.target ?? parseNameAddr(to).uri.raw;
  const targets = await targetsOf(ctx, target, cmd.target !== undefined);
  if (targets === undefined) return refuse({ ok: false, code: REPLY_CODE.INVALID, error: `target ${target.slice(0, 80)} is not a SIP URI` });
  if (targets.length === 0) {
    const known = await isKnownUser(ctx, target);
    return refuse({ ok: false, code: REPLY_CODE.NOT_FOUND, error: `${target.slice(0, 80)} is ${known ? 'a known user that is not registered' : 'not registered'} and no route matches`, ...(known ? { sipStatus: 480 } : {}) });
  }
  const ids = targets.map((_, i) => `${cmd.call}-b${i + 1}`);
  const headers = { ...(inboundEntry.headers ?? {}), ...(cmd.headers ?? {}) };
  const legs = targets.map((t, i): LegInput => ({
    call: ids[i] ?? `${cmd.call}-b${i + 1}`,
    from,
    to: target === parseNameAddr(to).uri.raw ? to : `<${target}>`,
    requestUri: t.requestUri,
    ...(sdp === undefined ? {} : { sdp }),
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    ...(callHeader.value === undefined ? {} : { callHeader: callHeader.value }),
    ...(cmd.timeoutMs === undefined ? {} : { timeoutMs: cmd.timeoutMs }),
    maxForwards,
    ...(t.route.length === 0 ? {} : { route: t.route.map((r) => (r.trim().startsWith('<') ? r.trim() : `<${r.trim()}>`)) }),
    ...(t.pin === undefined ? {} : { pin: t.pin }),
    ...(t.credentials === undefined ? {} : { credentials: t.credentials }),
    ...(t.binding === undefined ? {} : { binding: t.binding }),
    bridgeOf: cmd.call,
  }));
  return { kind: 'legs', state: { legs: ids, failed: [], ...(sdp === undefined ? { lateOffer: true } : {}) }, legs };
}

export async function bridge(ctx: UaContext, cmd: BridgeCommand): Promise<UacOutcome> {
  // What this instance remembers is good enough to plan on: a call never goes back to unbridged or
  // unanswered, and the bridge state is written below with compare-and-set, which checks again.
  const stored = ctx.calls.cached(cmd.call) ?? (await ctx.calls.get(cmd.call));
  if (stored === undefined) return { ok: false, code: REPLY_CODE.NOT_FOUND, error: `no call ${cmd.call}` };
  const plan = await planBridge(ctx, cmd, stored.value);
  if (plan.kind === 'refuse') return plan.outcome;
  if (plan.kind === 'too-many-hops') return tooManyHops(ctx, cmd.call);
  const marked = await runStep<boolean>(ctx, cmd.call, (entry) => {
    if (entry.bridge !== undefined || (entry.dialog.phase !== 'offered' && entry.dialog.phase !== 'early')) return { kind: 'stop', result: false };
    return { kind: 'transition', transition: unchangedDialog(entry.dialog), result: true, bridge: plan.state };
  });
  if (marked.kind !== 'done' || !marked.result) return { ok: false, code: REPLY_CODE.CONFLICT, error: 'the call changed (answered, ended or bridged)' };
  return startLegs(ctx, cmd.call, plan.legs);
}

/** Starts the planned legs of a call whose entry holds the bridge state; each leg that cannot start counts as failed. */
export async function startLegs(ctx: UaContext, call: string, legs: readonly LegInput[]): Promise<UacOutcome> {
  const failures: string[] = [];
  await Promise.all(
    legs.map(async (input) => {
      const r = await startLeg(ctx, input);
      if (!r.ok) {
        failures.push(`${input.call}: ${r.error}`);
        await legDone(ctx, call, input.call, 500);
      }
    }),
  );
  if (failures.length === legs.length) return { ok: false, code: REPLY_CODE.INVALID, error: failures.join('; ') };
  return { ok: true };
}

/**
 * Whether the user of `target` has credentials here: not registered then means not reachable now
 * (480, RFC 3261 §21.4.18: "not logged in"), rather than no such user (404). A lookup that fails
 * counts as known (480 makes the caller try again later; 404 would be definitive).
 */
async function isKnownUser(ctx: UaContext, target: string): Promise<boolean> {
  if (ctx.knownUser === undefined) return false;
  let user: string | undefined;
  try {
    user = parseUri(target).user;
  } catch {
    return false;
  }
  if (user === undefined || user === '') return false;
  try {
    return await ctx.knownUser(user);
  } catch (err) {
    ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'user lookup failed; treated as known');
    return true;
  }
}

/**
 * SIPNATS_ROUTING=bridge: a new inbound call is bridged at once, as planned before its entry was
 * written (with the plan's bridge state); nowhere to go → 404 (480 for a known user).
 */
export async function autoBridge(ctx: UaContext, call: string, plan: BridgePlan): Promise<void> {
  const r = plan.kind === 'legs' ? await startLegs(ctx, call, plan.legs) : plan.kind === 'refuse' ? plan.outcome : await tooManyHops(ctx, call);
  // Legs that could not start were each noted as failed: the last one rejected the call.
  if (r.ok || plan.kind !== 'refuse') return;
  const status = r.sipStatus ?? (r.code === REPLY_CODE.NOT_FOUND ? 404 : 480);
  const rejected = await runCallCommand(ctx, call, { action: 'reject', status });
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ call, error: r.error, status, rejected: rejected.ok }, 'inbound call not bridged');
}

/** A transition that only writes the entry (the bridge state), the dialog unchanged. */
function unchangedDialog(record: DialogRecord): Transition {
  return { record, changed: true, responses: [], requests: [], events: [], timers: [], cancelTimers: [] };
}

/**
 * Statuses that say nothing about the callee: our own CANCEL (487), a timeout (408), and a
 * registered connection that is gone (430 Flow Failed from the transport holding it: RFC 5626
 * §11.5, meant for the authoritative proxy, never for an endpoint such as the caller).
 */
const NOT_THE_CALLEE: ReadonlySet<number> = new Set([408, 430, 487]);

/** Busy first, then the lowest class that says most (4xx over 5xx/6xx), else 480. */
export function bridgeStatus(statuses: readonly number[]): number {
  if (statuses.some((s) => s === 486 || s === 600)) return 486;
  const real = statuses.filter((s) => s >= 300 && !NOT_THE_CALLEE.has(s));
  if (real.length === 0) return 480;
  return [...real].sort((a, b) => a - b)[0] ?? 480;
}

/** A leg failed before an answer: note it; when every leg failed, reject the inbound call. */
async function legDone(ctx: UaContext, inbound: string, leg: string, status: number): Promise<void> {
  await runStep(
    ctx,
    inbound,
    (entry) => {
      const b = entry.bridge;
      if (b === undefined || b.failed.some((f) => f.leg === leg)) return { kind: 'stop', result: undefined };
      const state: BridgeState = { legs: b.legs, failed: [...b.failed, { leg, status }] };
      const phase = entry.dialog.phase;
      if (state.failed.length < b.legs.length || (phase !== 'offered' && phase !== 'early')) {
        return { kind: 'transition', transition: unchangedDialog(entry.dialog), result: undefined, bridge: state };
      }
      const r = handleCommand(ctx.dialog, entry.dialog, { action: 'reject', status: bridgeStatus(state.failed.map((f) => f.status)) }, ctx.clock());
      return { kind: 'transition', transition: r.ok ? r.transition : unchangedDialog(entry.dialog), result: undefined, bridge: state };
    },
    { onResponse: responseFeeder(ctx) },
  );
}

function quietly(ctx: UaContext, what: string, p: Promise<unknown>): void {
  p.catch((err: unknown) => ctx.log.warn({ err, what }, 'bridge reaction failed'));
}

/** The INFO to relay for an `info` or `dtmf` event (DTMF as application/dtmf-relay, RFC 6086 usage). */
export function relayedInfo(ev: UacEvent): { readonly action: 'info'; readonly contentType: string; readonly body: string } | undefined {
  if (ev.event === 'dtmf' && ev.dtmf !== undefined) {
    return { action: 'info', contentType: 'application/dtmf-relay', body: `Signal=${ev.dtmf.digit}\r\nDuration=${ev.dtmf.duration ?? 160}\r\n` };
  }
  if (ev.event === 'info' && ev.contentType !== undefined && ev.body !== undefined) return { action: 'info', contentType: ev.contentType, body: ev.body };
  return undefined;
}

/** Reacts to the events of a bridged inbound call or of one of its legs. */
export function reactToBridgeEvents(ctx: UaContext, source: BridgeSource, events: readonly UacEvent[]): void {
  for (const ev of events) {
    const info = relayedInfo(ev);
    if (ev.event === 'updated' && ev.offerFailed === true) {
      // The other side refused the offer relayed to it (the call goes on): so is its sender (§14.2).
      const status = ev.status ?? 500;
      quietly(ctx, 'relay refusal', peerOf(ctx, source).then((peer) => (peer === undefined ? undefined : refusePendingOffer(ctx, peer, status))));
      continue;
    }
    if (ev.event === 'updated' && ev.sdp !== undefined) {
      // No status: the peer's re-INVITE/UPDATE offer; with a status: the answer to the one we relayed.
      const sdp = ev.sdp;
      quietly(ctx, 'relay offer/answer', ev.status === undefined ? relayOffer(ctx, source, sdp) : relayAnswer(ctx, source, sdp));
      continue;
    }
    if (source.legs !== undefined) {
      if (ev.event === 'cancelled' || ev.event === 'ended' || ev.event === 'failed') {
        const cause = ev.cause ?? 'NORMAL_CLEARING';
        for (const leg of source.legs) quietly(ctx, `hangup ${leg}`, runCallCommand(ctx, leg, { action: 'hangup', cause }));
      }
      if (ev.event === 'confirmed') quietly(ctx, 'relay ACK answer', relayAckAnswer(ctx, source.call, ev.sdp));
      // INFO goes to the connected leg (the others are not confirmed: BAD_STATE, ignored).
      if (info !== undefined) for (const leg of source.legs) quietly(ctx, `info ${leg}`, runCallCommand(ctx, leg, info));
      continue;
    }
    const inbound = source.bridgeOf;
    if (inbound === undefined) continue;
    if (info !== undefined) {
      quietly(ctx, 'info inbound', runCallCommand(ctx, inbound, info));
      continue;
    }
    switch (ev.event) {
      case 'ringing':
        quietly(ctx, 'ring', runCallCommand(ctx, inbound, { action: 'ring' }));
        break;
      case 'early':
        if (source.lateOffer === true) quietly(ctx, 'ring', runCallCommand(ctx, inbound, { action: 'ring' }));
        else if (ev.sdp !== undefined) quietly(ctx, 'early', runCallCommand(ctx, inbound, { action: 'ring', status: 183, sdp: ev.sdp }));
        break;
      case 'answered':
        quietly(ctx, 'answer', answered(ctx, inbound, source.call, ev.sdp));
        break;
      case 'failed':
      case 'cancelled':
        quietly(ctx, 'leg failed', legDone(ctx, inbound, source.call, ev.status ?? 480));
        break;
      case 'ended':
        quietly(ctx, 'hangup inbound', runCallCommand(ctx, inbound, { action: 'hangup', cause: ev.cause ?? 'NORMAL_CLEARING' }));
        break;
      default:
        break;
    }
  }
}

/** The other side of a bridge: the inbound call of a leg, the connected leg of an inbound call. */
async function peerOf(ctx: UaContext, source: BridgeSource): Promise<string | undefined> {
  if (source.bridgeOf !== undefined) return source.bridgeOf;
  for (const leg of source.legs ?? []) {
    const e = await ctx.calls.get(leg);
    if (e !== undefined && e.value.dialog.phase === 'confirmed') return leg;
  }
  return undefined;
}

/** A peer's offer mid-call goes to the other side as re-INVITE; when that cannot be, it is accepted as it is. */
async function relayOffer(ctx: UaContext, source: BridgeSource, sdp: string): Promise<void> {
  const peer = await peerOf(ctx, source);
  const r = peer === undefined ? undefined : await runCallCommand(ctx, peer, { action: 'update', sdp });
  if (r?.ok !== true) await acceptPendingOffer(ctx, source.call);
}

/**
 * The other side answered the relayed offer: its SDP answers the pending offer here. When that
 * offer is gone (its re-INVITE was CANCELed and got 487, RFC 3261 §9.2), the other side is offered
 * the session that still holds here again, so that both sides agree (§14.2).
 */
async function relayAnswer(ctx: UaContext, source: BridgeSource, sdp: string): Promise<void> {
  const peer = await peerOf(ctx, source);
  if (peer === undefined) return;
  const r = await runCallCommand(ctx, peer, { action: 'answer', sdp });
  if (r.ok) return;
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ call: peer, error: r.error }, 'relayed answer not applied');
  if (r.code !== REPLY_CODE.CONFLICT) return;
  const [here, there] = await Promise.all([ctx.calls.get(source.call), ctx.calls.get(peer)]);
  const held = there?.value.dialog.remoteSdp;
  if (held !== undefined && there?.value.dialog.incoming === undefined && here !== undefined && here.value.dialog.localSdp !== held) {
    await runCallCommand(ctx, source.call, { action: 'update', sdp: held });
  }
}

async function answered(ctx: UaContext, inbound: string, leg: string, sdp: string | undefined): Promise<void> {
  const won = sdp === undefined ? undefined : await answerInbound(ctx, inbound, leg, sdp);
  if (won === undefined) {
    await runCallCommand(ctx, leg, { action: 'hangup', cause: 'NORMAL_CLEARING', reason: 'another branch answered first' });
    return;
  }
  for (const other of won.bridge?.legs ?? []) {
    if (other !== leg) quietly(ctx, `hangup ${other}`, runCallCommand(ctx, other, { action: 'hangup', cause: 'NORMAL_CLEARING', reason: 'Call completed elsewhere' }));
  }
}

/**
 * Answers the inbound call with the leg's SDP and notes that leg (in one write): the first leg
 * wins. The entry written when this leg won; undefined when it lost.
 */
async function answerInbound(ctx: UaContext, inbound: string, leg: string, sdp: string): Promise<CallEntry | undefined> {
  const r = await runStep<boolean>(
    ctx,
    inbound,
    (entry) => {
      const o = handleCommand(ctx.dialog, entry.dialog, { action: 'answer', sdp }, ctx.clock());
      if (!o.ok) return { kind: 'stop', result: false };
      const b = entry.bridge;
      return { kind: 'transition', transition: o.transition, result: true, ...(b === undefined ? {} : { bridge: { ...b, answered: leg } }) };
    },
    { onResponse: responseFeeder(ctx) },
  );
  return r.kind === 'done' && r.result ? r.entry : undefined;
}

/**
 * Late offer: the caller's ACK (inbound `confirmed`) carried the answer to the offer the answering
 * leg made in its 2xx; that leg's ACK carries it on. (An ACK without one ended the inbound call,
 * which hangs the leg up.)
 */
async function relayAckAnswer(ctx: UaContext, inbound: string, sdp: string | undefined): Promise<void> {
  if (sdp === undefined) return;
  const b = (await ctx.calls.get(inbound))?.value.bridge;
  if (b?.lateOffer !== true || b.answered === undefined) return;
  const r = await runCallCommand(ctx, b.answered, { action: 'answer', sdp });
  if (r.ok) return;
  // BAD_STATE: the leg is gone (its end hangs the inbound call up); else its answer-timeout will end both.
  if (r.code !== REPLY_CODE.BAD_STATE) ctx.log.warn({ call: inbound, leg: b.answered, error: r.error }, 'the answer in the ACK did not reach the leg');
}
