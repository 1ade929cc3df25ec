/**
 * The REGISTER client of one trunk (RFC 3261 §10.2), pure: the caller sends the requests, runs
 * the timers and feeds back every response (or the transport's local final on a timeout).
 *
 * - REGISTER: Request-URI = registrar, To = From = AoR (From with our tag), one Call-ID per trunk,
 *   CSeq + 1 per request, Contact with our URI, Expires.
 * - 401/407: answered once per challenge set (`answerChallenge`); a repeat fails (no loop).
 *   Credentials are not reused on the next refresh: a fresh challenge each time, so the nonce
 *   count never goes backwards across instances.
 * - 2xx: the granted expiry is the `expires` of our Contact in the response, else the Expires
 *   header, else what we asked for. Refresh after max(granted / 2, granted − margin) seconds,
 *   margin 30 s by default: 30 s before expiry for long registrations, half-way for short ones.
 * - 423: ask again with the Min-Expires value (when it is above what we asked).
 * - Any other final response or a timeout: event `failed`, retry after min(max, min · 2^n),
 *   n = consecutive failures, with jitter (50–100 %); a 503 with Retry-After waits that long.
 * - `unregister`: REGISTER with Expires 0 (§10.2.2), then `unregistered`.
 */
import type { RandomSource } from '../ports.js';
import { randomToken } from '../ports.js';
import type { AuthValueView, ContactView, Header, ResponseView } from '../sip-view.js';
import { answerChallenge } from '../uac/challenge.js';
import { REGISTRATION_VERSION } from './types.js';
import type { OutboundRegConfig, RegEventSpec, RegistrationRecord, RegRequest, RegTimerName, RegTransition, TrunkConfig } from './types.js';

/** What registration reads from a response; `@sipnats/sip-codec`'s SipResponse satisfies it. */
export interface RegResponseView extends Pick<ResponseView, 'status' | 'reason' | 'callId' | 'cseq' | 'contacts' | 'getHeader'> {
  readonly expires: number | undefined;
  readonly minExpires: number | undefined;
  readonly wwwAuthenticate: readonly AuthValueView[];
  readonly proxyAuthenticate: readonly AuthValueView[];
}

export interface RegContext {
  readonly now: number;
  readonly random: RandomSource;
}

const MAX_EXPIRES = 2 ** 31 - 1;

class RegOut {
  record: RegistrationRecord;
  changed = false;
  readonly requests: RegRequest[] = [];
  readonly events: RegEventSpec[] = [];
  readonly timers: { name: RegTimerName; at: number }[] = [];
  readonly cancelTimers: RegTimerName[] = [];

  constructor(record: RegistrationRecord) {
    this.record = record;
  }

  set(patch: Partial<RegistrationRecord>, now: number): RegistrationRecord {
    this.record = { ...this.record, ...patch, updatedAt: now };
    this.changed = true;
    return this.record;
  }

  done(): RegTransition {
    return { record: this.record, changed: this.changed, requests: this.requests, events: this.events, timers: this.timers, cancelTimers: this.cancelTimers };
  }
}

/** The record of a trunk before its first REGISTER. */
export function createRegistration(trunk: TrunkConfig, ctx: RegContext): RegistrationRecord {
  if (!Number.isInteger(trunk.expires) || trunk.expires < 1 || trunk.expires > MAX_EXPIRES) throw new RangeError(`trunk ${trunk.id}: expires must be 1..${MAX_EXPIRES}`);
  for (const [name, value] of [['registrar', trunk.registrar], ['aor', trunk.aor], ['contact', trunk.contact]] as const) {
    if (!/^sips?:[^\s<>]+$/i.test(value)) throw new RangeError(`trunk ${trunk.id}: ${name} must be a sip or sips URI without spaces or brackets`);
  }
  return {
    v: REGISTRATION_VERSION,
    trunk: trunk.id,
    phase: 'idle',
    callId: randomToken(ctx.random, 16),
    localTag: randomToken(ctx.random, 8),
    cseq: 0,
    requestedExpires: trunk.expires,
    grantedExpires: 0,
    bound: false,
    auth: [],
    failures: 0,
    lastError: undefined,
    updatedAt: ctx.now,
  };
}

/** Delay until the refresh of a registration granted for `expires` seconds. */
export function refreshDelayMs(expires: number, config: OutboundRegConfig = {}): number {
  const margin = config.refreshMarginSeconds ?? 30;
  return Math.max(1, Math.floor(Math.max(expires / 2, expires - margin) * 1000));
}

/** Delay before retry `failures` (1 = first), with 50–100 % jitter. */
export function retryDelayMs(failures: number, random: RandomSource, config: OutboundRegConfig = {}): number {
  const min = config.retryMinMs ?? 5000;
  const max = config.retryMaxMs ?? 300_000;
  const base = Math.min(max, min * 2 ** Math.min(30, Math.max(0, failures - 1)));
  const u = Buffer.from(random(4)).readUInt32BE(0) / 0x1_0000_0000;
  return Math.floor(base * (0.5 + u / 2));
}

function sendRegister(out: RegOut, trunk: TrunkConfig, config: OutboundRegConfig, now: number, expires: number): void {
  const r = out.set({ cseq: out.record.cseq + 1 }, now);
  const headers: Header[] = [
    ['From', `<${trunk.aor}>;tag=${r.localTag}`],
    ['To', `<${trunk.aor}>`],
    ['Call-ID', r.callId],
    ['CSeq', `${r.cseq} REGISTER`],
    ['Max-Forwards', String(config.maxForwards ?? 70)],
    ['Contact', `<${trunk.contact}>`],
    ['Expires', String(expires)],
    ...r.auth.map((a) => a.header),
  ];
  out.requests.push({ method: 'REGISTER', requestUri: trunk.registrar, headers, txnRef: `reg/${trunk.id}/${r.cseq}` });
}

/** Sends the first REGISTER (or registers again after `stopped`). */
export function startRegistration(config: OutboundRegConfig, trunk: TrunkConfig, record: RegistrationRecord, now: number): RegTransition {
  const out = new RegOut(record);
  out.set({ phase: 'registering', auth: [] }, now);
  out.cancelTimers.push('reg-refresh', 'reg-retry');
  sendRegister(out, trunk, config, now, record.requestedExpires);
  return out.done();
}

/** Removes our binding (Expires: 0) on shutdown; nothing to send when not registered. */
export function unregister(config: OutboundRegConfig, trunk: TrunkConfig, record: RegistrationRecord, now: number): RegTransition {
  const out = new RegOut(record);
  out.cancelTimers.push('reg-refresh', 'reg-retry');
  if (!record.bound) {
    out.set({ phase: 'stopped' }, now);
    return out.done();
  }
  out.set({ phase: 'unregistering', auth: [] }, now);
  sendRegister(out, trunk, config, now, 0);
  return out.done();
}

function sameContact(contact: ContactView, ours: string): boolean {
  const norm = (u: string): string => u.replace(/^<|>$/g, '').split(';')[0]?.toLowerCase() ?? '';
  return norm(contact.uri.raw) === norm(ours);
}

function event(trunk: TrunkConfig, name: RegEventSpec['event'], expires: number, reason?: string): RegEventSpec {
  return { event: name, aor: trunk.aor, contact: trunk.contact, expires, ...(reason === undefined ? {} : { reason }) };
}

export function handleRegResponse(config: OutboundRegConfig, trunk: TrunkConfig, record: RegistrationRecord, response: RegResponseView, ctx: RegContext): RegTransition {
  const out = new RegOut(record);
  const active = record.phase === 'registering' || record.phase === 'unregistering';
  if (!active || response.callId !== record.callId || response.cseq.seq !== record.cseq || response.cseq.method.toUpperCase() !== 'REGISTER' || response.status < 200) {
    return out.done();
  }
  const { now } = ctx;
  const status = response.status;
  const unregistering = record.phase === 'unregistering';
  if (status < 300) {
    if (unregistering) {
      out.set({ phase: 'stopped', bound: false, grantedExpires: 0, auth: [], failures: 0 }, now);
      out.events.push(event(trunk, 'unregistered', 0));
      return out.done();
    }
    const mine = response.contacts.find((c) => sameContact(c, trunk.contact));
    const granted = mine?.expires ?? response.expires ?? record.requestedExpires;
    if (granted <= 0) return failure(out, config, trunk, ctx, 'the registrar granted no expiry for our contact', undefined);
    out.set({ phase: 'registered', bound: true, grantedExpires: granted, auth: [], failures: 0, lastError: undefined }, now);
    out.events.push(event(trunk, record.bound ? 'refreshed' : 'registered', granted));
    out.timers.push({ name: 'reg-refresh', at: now + refreshDelayMs(granted, config) });
    return out.done();
  }
  if (status === 401 || status === 407) {
    const answer = answerChallenge({
      status,
      challenges: status === 401 ? response.wwwAuthenticate : response.proxyAuthenticate,
      answered: record.auth,
      credentials: { username: trunk.username, password: trunk.password, realm: trunk.realm },
      method: 'REGISTER',
      requestUri: trunk.registrar,
      random: ctx.random,
    });
    if (answer.kind === 'fail') return failure(out, config, trunk, ctx, `${status} ${response.reason}: ${answer.reason}`, undefined);
    out.set({ auth: answer.auth }, now);
    sendRegister(out, trunk, config, now, unregistering ? 0 : record.requestedExpires);
    return out.done();
  }
  if (status === 423 && !unregistering) {
    const min = response.minExpires;
    if (min !== undefined && min > record.requestedExpires && min <= MAX_EXPIRES) {
      out.set({ requestedExpires: min }, now);
      sendRegister(out, trunk, config, now, min);
      return out.done();
    }
    return failure(out, config, trunk, ctx, '423 without a usable Min-Expires', undefined);
  }
  const retryAfter = status === 503 ? Number.parseInt(response.getHeader('Retry-After') ?? '', 10) : Number.NaN;
  return failure(out, config, trunk, ctx, `${status} ${response.reason}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
}

/** The transport's own final response for a REGISTER (408 on Timer F, 503 when it cannot send). */
export function handleRegLocalFinal(
  config: OutboundRegConfig,
  trunk: TrunkConfig,
  record: RegistrationRecord,
  local: { readonly txnRef: string; readonly status: number; readonly reason: string; readonly error?: string },
  ctx: RegContext,
): RegTransition {
  const out = new RegOut(record);
  const active = record.phase === 'registering' || record.phase === 'unregistering';
  if (!active || local.txnRef !== `reg/${trunk.id}/${record.cseq}`) return out.done();
  return failure(out, config, trunk, ctx, `${local.status} ${local.error ?? local.reason}`, undefined);
}

function failure(out: RegOut, config: OutboundRegConfig, trunk: TrunkConfig, ctx: RegContext, reason: string, delayMs: number | undefined): RegTransition {
  const { now } = ctx;
  if (out.record.phase === 'unregistering') {
    out.set({ phase: 'stopped', bound: false, auth: [], lastError: reason }, now);
    out.events.push(event(trunk, 'failed', 0, `unregister: ${reason}`));
    return out.done();
  }
  const failures = out.record.failures + 1;
  out.set({ phase: 'failed', auth: [], failures, lastError: reason }, now);
  out.events.push(event(trunk, 'failed', 0, reason));
  out.timers.push({ name: 'reg-retry', at: now + (delayMs ?? retryDelayMs(failures, ctx.random, config)) });
  return out.done();
}

/** A registration timer fired: refresh (when registered) or retry (after a failure). */
export function handleRegTimer(config: OutboundRegConfig, trunk: TrunkConfig, record: RegistrationRecord, name: RegTimerName, now: number): RegTransition {
  const out = new RegOut(record);
  const due = (name === 'reg-refresh' && record.phase === 'registered') || (name === 'reg-retry' && record.phase === 'failed');
  if (!due) return out.done();
  out.set({ phase: 'registering', auth: [] }, now);
  sendRegister(out, trunk, config, now, record.requestedExpires);
  return out.done();
}
