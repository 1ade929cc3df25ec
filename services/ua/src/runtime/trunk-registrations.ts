/**
 * Outbound registration of the configured trunks (RFC 3261 §10.2) run by this instance: the pure
 * state machine in outbound-reg/ decides; this sends each REGISTER through any transport instance
 * (`<p>.out`, with a reply subject), feeds every response (or the transport's local 408/503) back,
 * runs the refresh and retry timers locally, and publishes `reg` events (registered, refreshed,
 * failed, unregistered) for the trunk's AoR.
 */
import { fromBase64, type ResponseEnvelope } from '@sipnats/contracts';
import { parseMessage, type SipResponse } from '@sipnats/sip-codec';
import type { UaContext } from '../handlers/context.js';
import { publishRegEvent } from '../handlers/events.js';
import { encodeRequest } from '../handlers/sip-encode.js';
import { createRegistration, handleRegLocalFinal, handleRegResponse, handleRegTimer, startRegistration, unregister } from '../outbound-reg/registration.js';
import { holdLease, type LeaseStore } from '../store/lease-store.js';
import type { OutboundRegConfig, RegistrationRecord, RegTimerName, RegTransition, TrunkConfig } from '../outbound-reg/types.js';

export interface TrunkRegistrationsOptions {
  readonly ctx: () => UaContext;
  readonly trunks: readonly TrunkConfig[];
  readonly config?: OutboundRegConfig;
  /**
   * One instance registers a trunk at a time: the holder of the lease `trunk.<id>` (renewed every
   * ttl/3; another instance takes it over once it lapsed). Absent: this instance registers all.
   */
  readonly leases?: LeaseStore;
  /** Lease time, ms (default 30 000). */
  readonly leaseTtlMs?: number;
}

interface TrunkState {
  readonly trunk: TrunkConfig;
  record: RegistrationRecord;
  readonly timers: Map<RegTimerName, NodeJS.Timeout>;
  /** This instance registers the trunk (holds its lease). */
  active: boolean;
}

export class TrunkRegistrations {
  readonly #o: TrunkRegistrationsOptions;
  readonly #states = new Map<string, TrunkState>();
  #running = false;

  constructor(o: TrunkRegistrationsOptions) {
    this.#o = o;
  }

  /** The current record of a trunk (tests, metrics). */
  record(id: string): RegistrationRecord | undefined {
    return this.#states.get(id)?.record;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const ctx = this.#o.ctx();
    for (const trunk of this.#o.trunks) {
      this.#states.set(trunk.id, { trunk, record: createRegistration(trunk, { now: ctx.clock(), random: ctx.random }), timers: new Map(), active: false });
    }
    if (this.#o.leases === undefined) {
      for (const state of this.#states.values()) this.#activate(state);
      return;
    }
    const ttl = this.#o.leaseTtlMs ?? 30_000;
    const tick = (): void => {
      void this.#checkLeases(ttl).finally(() => {
        if (!this.#running) return;
        this.#leaseTimer = setTimeout(tick, Math.max(100, Math.floor(ttl / 3)));
        this.#leaseTimer.unref();
      });
    };
    tick();
  }

  #leaseTimer: NodeJS.Timeout | undefined;

  async #checkLeases(ttl: number): Promise<void> {
    const leases = this.#o.leases;
    if (leases === undefined) return;
    const ctx = this.#o.ctx();
    for (const state of this.#states.values()) {
      let held: boolean;
      try {
        held = await holdLease(leases, `trunk.${state.trunk.id}`, ctx.instance, ctx.clock(), ttl);
      } catch (err) {
        // KV unavailable: keep doing what we did until the lease would have lapsed anyway.
        ctx.log.warn({ err, trunk: state.trunk.id }, 'trunk lease not checked');
        continue;
      }
      if (!this.#running) return;
      if (held && !state.active) this.#activate(state);
      else if (!held && state.active) this.#deactivate(state);
    }
  }

  #activate(state: TrunkState): void {
    const ctx = this.#o.ctx();
    state.active = true;
    ctx.log.info({ trunk: state.trunk.id }, 'registering trunk');
    this.#apply(state, startRegistration(this.#config, state.trunk, state.record, ctx.clock()));
  }

  /** Another instance holds the lease now: stop our timers (its REGISTERs refresh the binding). */
  #deactivate(state: TrunkState): void {
    state.active = false;
    for (const t of state.timers.values()) clearTimeout(t);
    state.timers.clear();
    this.#o.ctx().log.info({ trunk: state.trunk.id }, 'trunk registered by another instance');
  }

  /** Stops the timers and removes our bindings (REGISTER with Expires: 0; responses not awaited). */
  stop(): void {
    if (!this.#running) return;
    const ctx = this.#o.ctx();
    clearTimeout(this.#leaseTimer);
    for (const state of this.#states.values()) if (state.active) this.#apply(state, unregister(this.#config, state.trunk, state.record, ctx.clock()));
    this.#running = false;
    for (const state of this.#states.values()) for (const t of state.timers.values()) clearTimeout(t);
  }

  get #config(): OutboundRegConfig {
    return this.#o.config ?? {};
  }

  #apply(state: TrunkState, t: RegTransition): void {
    const ctx = this.#o.ctx();
    state.record = t.record;
    for (const name of t.cancelTimers) {
      clearTimeout(state.timers.get(name));
      state.timers.delete(name);
    }
    if (this.#running && state.active) {
      for (const spec of t.timers) {
        clearTimeout(state.timers.get(spec.name));
        const timer = setTimeout(() => {
          state.timers.delete(spec.name);
          this.#apply(state, handleRegTimer(this.#config, state.trunk, state.record, spec.name, ctx.clock()));
        }, Math.max(0, spec.at - ctx.clock()));
        timer.unref();
        state.timers.set(spec.name, timer);
      }
    }
    for (const req of t.requests) {
      try {
        const raw = encodeRequest(req, [['User-Agent', ctx.policy.userAgent]]);
        ctx.clients.sendVia({}, raw, (env) => this.#response(state, req.txnRef, env));
      } catch (err) {
        ctx.log.error({ err, trunk: state.trunk.id }, 'REGISTER not sent');
      }
    }
    for (const ev of t.events) {
      if (ev.event === 'failed') publishRegEvent(ctx, { ...ev, event: 'failed', reason: ev.reason ?? 'registration failed' });
      else publishRegEvent(ctx, { event: ev.event, aor: ev.aor, contact: ev.contact, expires: ev.expires });
      ctx.log.info({ trunk: state.trunk.id, event: ev.event, expires: ev.expires, reason: ev.reason }, 'trunk registration');
    }
  }

  #response(state: TrunkState, txnRef: string, env: ResponseEnvelope): void {
    const ctx = this.#o.ctx();
    if (env.status < 200 || (!state.active && state.record.phase !== 'unregistering')) return;
    const now = ctx.clock();
    if (env.raw === undefined) {
      this.#apply(
        state,
        handleRegLocalFinal(this.#config, state.trunk, state.record, { txnRef, status: env.status, reason: env.reason, ...(env.error === undefined ? {} : { error: env.error }) }, { now, random: ctx.random }),
      );
      return;
    }
    let response: SipResponse;
    try {
      const m = parseMessage(fromBase64(env.raw));
      if (m.kind !== 'response') return;
      response = m as SipResponse;
    } catch (err) {
      ctx.log.warn({ err, trunk: state.trunk.id }, 'unparseable response to REGISTER dropped');
      return;
    }
    this.#apply(state, handleRegResponse(this.#config, state.trunk, state.record, response, { now, random: ctx.random }));
  }
}
