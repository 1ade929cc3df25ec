/**
 * build(deps): the ua wired from its parts, without touching the process: NATS, KV, clock and
 * randomness come in as interfaces, so tests run it with fakes or against a real nats-server.
 *
 * Requests (`<p>.req.*`, queue group `ua`) and commands (`<p>.cmd.call.*`, queue group `ua`) go
 * through one work queue with bounded concurrency and two bounded lanes (commands first, so a
 * controller is not starved by a flood of requests); a full lane or a draining service answers
 * 503 (requests) or INTERNAL (commands) at once. Call timers and registration expiry are
 * swept by every instance with CAS, so nothing depends on one process staying alive. Flow events
 * of the transports (`<p>.evt.flow.closed`, queue group `ua`) remove the registrations bound to a
 * closed connection (handlers/flow-gone.ts), as normal-lane work.
 */
import type { Subjects } from '@sipnats/contracts';
import { QUEUE, subjects as makeSubjects } from '@sipnats/contracts';
import type { Logger } from '@sipnats/logging';
import type { CredentialStore } from './auth/credential-store.js';
import { parseAlgorithm, type DigestAlgorithm } from './auth/digest-algorithm.js';
import { DigestAuthenticator } from './auth/digest-server.js';
import { NonceService } from './auth/nonce.js';
import type { NonceCountStore } from './auth/nonce-count-store.js';
import type { UaConfig } from './config.js';
import { busyReply, handleCommandMessage } from './control/commands.js';
import type { DialogConfig } from './dialog/types.js';
import { reactToBridgeEvents } from './handlers/bridge.js';
import type { UaContext } from './handlers/context.js';
import { decodeEnvelope, handleEnvelope, outsideDialog, serviceUnavailable } from './handlers/dispatch.js';
import type { UaMetrics } from './ops/metrics.js';
import type { Clock, RandomSource } from './ports.js';
import type { BindingStore } from './registrar/binding-store.js';
import type { FlowIndexStore } from './registrar/flow-index.js';
import { decodeFlowEvent, handleFlowClosed } from './handlers/flow-gone.js';
import { CallTimers } from './runtime/call-timers.js';
import { RemovalBook } from './runtime/removals.js';
import { ClientTransactions } from './runtime/client-transactions.js';
import type { Messaging, MessagingSubscription } from './runtime/messaging.js';
import { RegistrationSweep, type RegistrationSweepOptions } from './runtime/registration-sweep.js';
import { LANE, WorkQueue } from './runtime/work-queue.js';
import type { CallStore } from './store/call-store.js';
import { Failover, outTarget, TargetBlacklist } from './resolver/failover.js';
import { SipResolver } from './resolver/resolver.js';
import type { DnsPort } from './resolver/types.js';
import type { TrunkConfig } from './outbound-reg/types.js';
import type { StaticRoute } from './handlers/routes.js';
import { TrunkRegistrations } from './runtime/trunk-registrations.js';
import { resolveTargets } from './handlers/targets.js';
import type { UacStore } from './store/uac-store.js';
import type { LeaseStore } from './store/lease-store.js';

export interface UaDeps {
  readonly config: UaConfig;
  readonly messaging: Messaging;
  readonly calls: CallStore;
  /** Outbound calls around their INVITE transaction (`uac.<call>` in the calls bucket). */
  readonly uacs: UacStore;
  readonly bindings: BindingStore;
  /**
   * The registrar's index by connection flow and how long an entry of it serves a binding before it
   * is written again (kv-flow-index.ts). Absent: closed connections are not looked up (`<p>.evt.flow.*`
   * is not consumed); their bindings go with a 430 or their expiry.
   */
  readonly flows?: { readonly store: FlowIndexStore; readonly reindexAfterMs: number };
  /** Listing access to the bindings for the expiry sweep (absent: no sweep, e.g. unit tests). */
  readonly bindingSweepStore?: RegistrationSweepOptions['store'];
  readonly nonceCounts: NonceCountStore;
  readonly credentials: CredentialStore;
  /** HMAC key of the digest nonces (shared by every instance). */
  readonly nonceSecret: Uint8Array;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: Logger;
  readonly metrics: UaMetrics;
  /** Static routes of the bridge (SIPNATS_ROUTES_FILE). */
  readonly routes?: readonly StaticRoute[];
  /** Trunks to register with (SIPNATS_TRUNKS_FILE). */
  readonly trunks?: readonly TrunkConfig[];
  /** Leases that let one instance at a time register each trunk (absent: this instance registers all). */
  readonly leases?: LeaseStore;
  /** DNS for RFC 3263 resolution of outbound targets (absent: the transport resolves names). */
  readonly dns?: DnsPort;
}

export interface UaApp {
  readonly ctx: UaContext;
  readonly subjects: Subjects;
  readonly queue: WorkQueue;
  readonly timers: CallTimers;
  /** Ended calls this instance is to remove, listed in KV once a second (runtime/removals.ts). */
  readonly removals: RemovalBook;
  readonly registrationSweep: RegistrationSweep | undefined;
  readonly trunkRegistrations: TrunkRegistrations | undefined;
  /** Subscribes and starts the sweeps. */
  start(): void;
  /** Stops taking new work and resolves when in-flight work finished (bounded by `timeoutMs`). */
  drain(timeoutMs: number): Promise<void>;
  readonly draining: boolean;
}

export function dialogConfig(c: UaConfig): DialogConfig {
  return {
    t1: c.t1,
    answerTimeoutMs: c.answerTimeout,
    noAnswerStatus: c.answerTimeoutStatus,
    sessionExpires: c.sessionExpires,
    minSE: c.minSE,
    transferTimeoutMs: c.transferTimeout,
  };
}

/** Shortest interval between two samples of the stored-calls gauge. */
export const CALLS_SAMPLE_MS = 30_000;

/** The configured digest algorithms, canonical names, duplicates dropped (config checked the names). */
export function digestAlgorithms(names: readonly string[]): DigestAlgorithm[] {
  const out: DigestAlgorithm[] = [];
  for (const name of names) {
    const a = parseAlgorithm(name);
    if (a !== undefined && !out.includes(a)) out.push(a);
  }
  return out;
}

function safeDecode(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

export function build(deps: UaDeps): UaApp {
  const { config, messaging, log, metrics } = deps;
  const subjects = makeSubjects(config.prefix);
  let draining = false;
  const queue = new WorkQueue({
    concurrency: config.maxConcurrency,
    maxQueue: config.maxQueue,
    // Commands jump ahead of requests; their own line is bounded too.
    maxPriorityQueue: Math.max(1, Math.ceil(config.maxQueue / 2)),
    onError: (err) => log.error({ err }, 'work item failed'),
    onChange: (running, waiting) => {
      metrics.inFlight.set(running);
      metrics.queueDepth.set(waiting);
    },
  });
  const clients = new ClientTransactions({
    messaging,
    subjects,
    maxPending: 50_000,
    timeoutMs: 64 * config.t1 + 8000,
    onError: (err) => log.warn({ err }, 'client transaction response dropped'),
  });
  const auth = config.authRequired
    ? new DigestAuthenticator({
        realm: config.realm,
        nonces: new NonceService({ secret: deps.nonceSecret, random: deps.random, lifetimeMs: config.nonceLifetime }),
        counts: deps.nonceCounts,
        credentials: deps.credentials,
        algorithms: digestAlgorithms(config.digestAlgorithms),
      })
    : undefined;
  const removals = new RemovalBook({
    instance: config.instanceId,
    store: deps.calls,
    maxCalls: 500_000,
    onUntracked: () => metrics.timersFired.inc({ timer: 'remove-untracked' }),
  });
  const timers: CallTimers = new CallTimers({
    ctx: () => ctx,
    removals,
    maxLocal: 100_000,
    sweepIntervalMs: config.sweepInterval,
    sweepBatch: 5000,
    submit: (job) => queue.offer(job, LANE.background),
  });
  const resolver = deps.dns === undefined ? undefined : new SipResolver({ dns: deps.dns, clock: deps.clock, random: () => Buffer.from(deps.random(4)).readUInt32BE(0) / 0x1_0000_0000 });
  const blacklist = new TargetBlacklist({ clock: deps.clock, ttlMs: config.targetBlacklist });
  const ctx: UaContext = {
    instance: config.instanceId,
    subjects,
    messaging,
    clients,
    calls: deps.calls,
    uacs: deps.uacs,
    bindings: deps.bindings,
    ...(deps.flows === undefined
      ? {}
      : {
          flowIndex: {
            store: deps.flows.store,
            reindexAfterMs: deps.flows.reindexAfterMs,
            onUnindexed: (aor, outcome) => {
              // `full`: a connection carrying more AoRs than an entry holds (a proxy or PBX), expected.
              const fields = { aor, outcome };
              const msg = 'binding on a connection not indexed by flow: it stays until a 430 or its expiry when the connection closes';
              if (outcome === 'contended') log.warn(fields, msg);
              else if (log.isLevelEnabled('debug')) log.debug(fields, msg);
            },
          },
        }),
    auth,
    registrar: {
      minExpires: config.minExpires,
      maxExpires: config.maxExpires,
      defaultExpires: config.defaultExpires,
      maxContacts: config.maxContacts,
      ...(config.domains === undefined ? {} : { domains: config.domains.map((d) => d.toLowerCase()) }),
    },
    dialog: dialogConfig(config),
    policy: { retryAfter: config.retryAfter, updatePolicy: config.updatePolicy, updateTimeoutMs: config.updateTimeout, userAgent: config.userAgent },
    clock: deps.clock,
    random: deps.random,
    log,
    metrics,
    scheduleLocal: (call, at) => timers.schedule(call, at),
    removals,
    bridgeEvents: (source, events) => reactToBridgeEvents(ctx, source, events),
    ...(deps.routes === undefined ? {} : { routes: deps.routes }),
    autoBridge: config.routing === 'bridge',
    knownUser: async (user) => (await deps.credentials.lookup(safeDecode(user), config.realm)) !== undefined,
    ...(resolver === undefined
      ? {}
      : {
          resolveTargets: async (uri: string) => new Failover(await resolveTargets(resolver, uri), blacklist).candidates().map(outTarget),
          targetFailed: (t) => blacklist.add({ transport: t.transport, address: t.host, port: t.port }),
        }),
  };
  let lastCallSample = Number.NEGATIVE_INFINITY;
  const registrationSweep =
    deps.bindingSweepStore === undefined
      ? undefined
      : new RegistrationSweep({
          ctx: () => ctx,
          store: deps.bindingSweepStore,
          intervalMs: config.regSweepInterval,
          batch: 100_000,
          maxReads: 2000,
          onSample: async () => {
            // Counting lists every call key in KV (ended ones stay 64·T1 after the end): O(calls
            // stored), so it runs at most once per CALLS_SAMPLE_MS, not on every sweep.
            const now = deps.clock();
            if (now - lastCallSample < CALLS_SAMPLE_MS) return;
            lastCallSample = now;
            metrics.dialogsActive.set(await deps.calls.countCalls(1_000_000));
          },
        });

  const trunkRegistrations = deps.trunks === undefined || deps.trunks.length === 0 ? undefined : new TrunkRegistrations({ ctx: () => ctx, trunks: deps.trunks, ...(deps.leases === undefined ? {} : { leases: deps.leases }) });
  const subs: MessagingSubscription[] = [];
  const onRequest = (data: Uint8Array): void => {
    const env = decodeEnvelope(ctx, data);
    if (env === undefined) return;
    const queuedAt = deps.clock();
    // Too old to be worth handling (outsideDialog, handlers/dispatch.ts): already older than the longest
    // wait when it reaches a ua with requests waiting (it sat in a transport's socket buffer or in
    // NATS behind a flood; the queue condition keeps a clock skewed against the transports' from
    // refusing traffic on a ua with room for it), or waited that long here. Refused, except an
    // INVITE that a call holds (a copy or retransmission of a call in progress): handleInvite
    // checks the dialog index before it refuses one.
    const staleOnArrival = outsideDialog(env) && queue.waitingIn(LANE.normal) > 0 && queuedAt - env.receivedAt > config.maxQueueWait;
    if (staleOnArrival && env.method !== 'INVITE') {
      serviceUnavailable(ctx, env, 'stale');
      return;
    }
    const job = (): Promise<void> => {
      const waited = outsideDialog(env) && deps.clock() - queuedAt > config.maxQueueWait;
      if (waited && env.method !== 'INVITE') {
        serviceUnavailable(ctx, env, 'wait');
        return Promise.resolve();
      }
      return handleEnvelope(ctx, env, staleOnArrival || waited ? { refuseUnlessHeld: waited ? 'wait' : 'stale' } : undefined);
    };
    if (!queue.offer(job)) serviceUnavailable(ctx, env, queue.closed ? 'draining' : 'queue');
  };

  return {
    ctx,
    subjects,
    queue,
    timers,
    removals,
    registrationSweep,
    trunkRegistrations,
    get draining() {
      return draining;
    },
    start() {
      clients.start();
      subs.push(messaging.subscribe(subjects.reqAll(), QUEUE.ua, (msg) => onRequest(msg.data)));
      subs.push(
        messaging.subscribe(subjects.cmdCallAll(), QUEUE.ua, (msg) => {
          const refused = (why: string): void => {
            if (msg.reply !== undefined) messaging.publish(msg.reply, busyReply(why));
          };
          if (!queue.offer(() => handleCommandMessage(ctx, msg), LANE.priority)) refused(queue.closed ? 'ua instance draining; try again' : 'ua overloaded; try again');
        }),
      );
      if (ctx.flowIndex !== undefined) {
        // One ua instance per event (queue group); the work waits in the normal lane like requests.
        subs.push(
          messaging.subscribe(subjects.evtFlow('closed'), QUEUE.ua, (msg) => {
            const ev = decodeFlowEvent(ctx, msg.data);
            if (ev === undefined) return;
            if (!queue.offer(() => handleFlowClosed(ctx, ev).then(() => undefined))) {
              metrics.flowEvents.inc({ result: 'shed' });
              if (log.isLevelEnabled('debug')) log.debug({ flow: ev.flow.id, instance: ev.flow.instance }, 'flow event dropped (queue full or draining): its bindings stay until a 430 or their expiry');
            }
          }),
        );
      }
      timers.start();
      registrationSweep?.start();
      trunkRegistrations?.start();
      log.info({ prefix: subjects.prefix, queue: QUEUE.ua, auth: auth !== undefined }, 'ua serving');
    },
    async drain(timeoutMs) {
      if (draining) return;
      draining = true;
      // One deadline for all of it: a subscription drain waits for the server, which may be gone.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      // The server stops sending to this member of the queue group; what was delivered still runs.
      await Promise.race([Promise.allSettled(subs.map((s) => s.drain())), timeout]);
      timers.stop();
      registrationSweep?.stop();
      await Promise.race([queue.close(), timeout]);
      // The calls ended in the last second: listed in KV, so another instance removes them.
      await Promise.race([removals.flush(deps.clock()).catch((err: unknown) => log.warn({ err }, 'removal list not written at drain')), timeout]);
      messaging.flush?.(); // before the connection drains
      clearTimeout(timer);
      trunkRegistrations?.stop();
      clients.stop();
    },
  };
}
