/**
 * REGISTER processing per RFC 3261 §10.3, with Path (RFC 3327) and the RFC 5626 instance-id and
 * reg-id kept. Pure: the current bindings and `now` come in; the response, the new binding set
 * and the events go out. Authentication (step 3) happens before, in auth/; the authenticated
 * user name is passed in for the authorisation check of step 4.
 */
import type { Header, RequestView, ResponseSpec } from '../sip-view.js';
import { respond } from '../response.js';
import { canonicalAor, contactKey } from './aor.js';
import { BINDING_VERSION, contactValue, sameFlow } from './binding.js';
import type { Binding, BindingSet, Flow } from './binding.js';

export interface RegistrarConfig {
  /** Shortest accepted non-zero expiry, seconds (423 below it). */
  readonly minExpires: number;
  /** Longest granted expiry, seconds (longer requests are shortened). */
  readonly maxExpires: number;
  /** Expiry when neither the Contact nor an Expires header gives one, seconds. */
  readonly defaultExpires: number;
  /** Bindings kept per AoR at most. */
  readonly maxContacts: number;
  /** Domains this registrar serves (lower-case); empty or absent: any. */
  readonly domains?: readonly string[];
}

export type RegisterRequestView = Pick<
  RequestView,
  'requestUri' | 'via' | 'from' | 'to' | 'callId' | 'cseq' | 'contacts' | 'contactWildcard' | 'expires' | 'path' | 'require' | 'supported' | 'getHeader'
>;

export interface RegisterInput {
  readonly request: RegisterRequestView;
  readonly flow: Flow;
  readonly current: BindingSet | undefined;
  readonly now: number;
  /** To tag for the response. */
  readonly toTag: string;
  /** The digest user that authenticated the request, when authentication is on. */
  readonly authenticatedUser?: string;
}

export type RegistrationEventName = 'registered' | 'refreshed' | 'unregistered' | 'expired';

/** A registration event; the service adds v, at and instance to make a contracts RegEvent. */
export interface RegistrationEvent {
  readonly event: RegistrationEventName;
  readonly aor: string;
  readonly contact: string;
  /** Granted seconds (0 when removed). */
  readonly expires: number;
  readonly flow?: Flow;
  readonly userAgent?: string;
  /** Why the registrar itself removed the binding (its flow is gone), for `unregistered`. */
  readonly reason?: string;
}

export type RegisterResult =
  | 'updated'
  | 'query'
  | 'unsupported-extension'
  | 'domain-not-served'
  | 'invalid-aor'
  | 'not-authorized'
  | 'invalid-wildcard'
  | 'interval-too-brief'
  | 'out-of-order'
  | 'too-many-contacts';

export interface RegisterOutcome {
  readonly result: RegisterResult;
  readonly response: ResponseSpec;
  /** The canonical AoR (absent when it could not be derived). */
  readonly aor?: string;
  /** undefined: leave the store alone; null: delete the AoR's key; a set: write it. */
  readonly next: BindingSet | null | undefined;
  readonly events: readonly RegistrationEvent[];
}

const SUPPORTED_EXTENSIONS = new Set(['path']);

export function processRegister(config: RegistrarConfig, input: RegisterInput): RegisterOutcome {
  const { request, now } = input;
  const reply = (result: RegisterResult, status: number, headers: Header[] = [], reason?: string, aor?: string): RegisterOutcome => ({
    result,
    response: respond(request, status, { toTag: input.toTag, headers, ...(reason === undefined ? {} : { reason }) }),
    ...(aor === undefined ? {} : { aor }),
    next: undefined,
    events: [],
  });

  // §8.2.2.3: extensions we do not support.
  const unsupported = request.require.filter((tag) => !SUPPORTED_EXTENSIONS.has(tag.toLowerCase()));
  if (unsupported.length > 0) return reply('unsupported-extension', 420, [['Unsupported', unsupported.join(', ')]]);

  // Step 1: is the Request-URI's domain ours?
  const domains = config.domains ?? [];
  const served = (host: string): boolean => domains.length === 0 || domains.includes(host.toLowerCase());
  if (!served(request.requestUri.host)) return reply('domain-not-served', 404, [], 'Domain Not Served');

  // Step 5: the AoR from To, canonical; it must be in a served domain.
  const aor = canonicalAor(request.to.uri);
  if (aor === undefined || !served(request.to.uri.host)) return reply('invalid-aor', 404);

  // Step 4: the authenticated user may only register its own AoR.
  if (input.authenticatedUser !== undefined) {
    const user = request.to.uri.user === undefined ? undefined : safeDecode(request.to.uri.user);
    if (user !== input.authenticatedUser) return reply('not-authorized', 403, [], 'Forbidden', aor);
  }

  const userAgent = request.getHeader('User-Agent');
  const current = input.current?.aor === aor ? input.current.bindings : [];
  const events: RegistrationEvent[] = [];
  const ev = (event: RegistrationEventName, b: Binding, expires: number): RegistrationEvent => ({
    event,
    aor,
    contact: b.contact,
    expires,
    flow: b.flow,
    ...(b.userAgent === undefined ? {} : { userAgent: b.userAgent }),
  });

  // Bindings already past their expiry are gone, whatever this request says.
  let bindings: Binding[] = [];
  for (const b of current) {
    if (b.expiresAt <= now) events.push(ev('expired', b, 0));
    else bindings.push(b);
  }
  const changedByExpiry = bindings.length !== current.length;

  if (request.contactWildcard) {
    // Step 6: `*` needs Expires: 0 and no other Contact.
    if (request.contacts.length > 0 || request.expires !== 0) {
      return reply('invalid-wildcard', 400, [], 'Invalid Request', aor);
    }
    for (const b of bindings) {
      if (b.callId === request.callId && request.cseq.seq <= b.cseq) return reply('out-of-order', 500, [], 'Out Of Order', aor);
    }
    for (const b of bindings) events.push(ev('unregistered', b, 0));
    return ok(config, input, aor, [], events, current.length > 0);
  }

  if (request.contacts.length === 0) {
    // A query (§10.2.3): answer with the current bindings.
    return ok(config, input, aor, bindings, events, changedByExpiry, 'query');
  }
  if (request.contacts.length > config.maxContacts) {
    return reply('too-many-contacts', 403, [], 'Too Many Contacts', aor);
  }

  // Step 7, first pass: expiry of every Contact, 423 before anything changes.
  const wanted = request.contacts.map((c) => ({ contact: c, expires: c.expires ?? request.expires ?? config.defaultExpires }));
  if (wanted.some((w) => w.expires > 0 && w.expires < config.minExpires)) {
    return reply('interval-too-brief', 423, [['Min-Expires', String(config.minExpires)]], undefined, aor);
  }

  const path = request.path.map((p) => p.raw);
  const changed = new Map<string, RegistrationEvent>();
  for (const { contact, expires: asked } of wanted) {
    const key = contactKey(contact.uri);
    const expires = Math.min(asked, config.maxExpires);
    const existing = bindings.find((b) => b.key === key);
    if (existing !== undefined && existing.callId === request.callId && request.cseq.seq <= existing.cseq) {
      // Step 7: same Call-ID with a CSeq not higher: the update is aborted.
      return reply('out-of-order', 500, [], 'Out Of Order', aor);
    }
    if (expires === 0) {
      if (existing !== undefined) {
        bindings = bindings.filter((b) => b !== existing);
        changed.set(key, ev('unregistered', existing, 0));
      }
      continue;
    }
    const instance = contact.params.get('+sip.instance');
    const regIdRaw = contact.params.get('reg-id');
    const regId = regIdRaw === undefined || regIdRaw === null || !/^\d{1,9}$/.test(regIdRaw) ? undefined : Number(regIdRaw);
    const binding: Binding = {
      contact: contact.uri.raw,
      key,
      params: [...contact.params.entries()].filter(([n]) => n !== 'expires' && n !== 'q' && n !== 'tag'),
      expiresAt: now + expires * 1000,
      ...(contact.q === undefined ? {} : { q: contact.q }),
      callId: request.callId,
      cseq: request.cseq.seq,
      path,
      flow: input.flow,
      ...(userAgent === undefined ? {} : { userAgent }),
      ...(instance === undefined || instance === null ? {} : { instanceId: instance.replace(/^"(.*)"$/, '$1') }),
      ...(regId === undefined ? {} : { regId }),
      registeredAt: existing?.registeredAt ?? now,
      receivedAt: now,
      // Still on the flow it was indexed with: the index entry stands (register-with-store.ts).
      ...(existing?.flowIndexedAt !== undefined && sameFlow(existing.flow, input.flow) ? { flowIndexedAt: existing.flowIndexedAt } : {}),
    };
    bindings = existing === undefined ? [...bindings, binding] : bindings.map((b) => (b === existing ? binding : b));
    changed.set(key, ev(existing === undefined && !changed.has(key) ? 'registered' : 'refreshed', binding, expires));
  }
  if (bindings.length > config.maxContacts) return reply('too-many-contacts', 403, [], 'Too Many Contacts', aor);
  events.push(...changed.values());
  return ok(config, input, aor, bindings, events, true);
}

function ok(
  _config: RegistrarConfig,
  input: RegisterInput,
  aor: string,
  bindings: readonly Binding[],
  events: readonly RegistrationEvent[],
  changed: boolean,
  result: RegisterResult = 'updated',
): RegisterOutcome {
  const { request, now } = input;
  const headers: Header[] = bindings.map((b): Header => ['Contact', contactValue(b, now)]);
  // RFC 3327 §5.3: echo the Path when the UA said it supports it.
  if (request.path.length > 0 && request.supported.some((t) => t.toLowerCase() === 'path')) {
    for (const p of request.path) headers.push(['Path', p.raw]);
  }
  headers.push(['Date', new Date(now).toUTCString()]);
  let next: BindingSet | null | undefined;
  if (!changed) next = undefined;
  else if (bindings.length === 0) next = input.current === undefined ? undefined : null;
  else next = { v: BINDING_VERSION, aor, bindings: [...bindings] };
  return {
    result,
    response: respond(request, 200, { toTag: input.toTag, headers }),
    aor,
    next,
    events,
  };
}

function safeDecode(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}


