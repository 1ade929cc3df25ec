/**
 * Settings of the ua service. Every value comes from the environment through @sipnats/config;
 * README.md lists them.
 */
import { commonSettings, natsChecks, setting, type ConfigOf, type DeepReadonly } from '@sipnats/config';

const BUCKET = /^[A-Za-z0-9_-]{1,64}$/;

export const uaSettings = {
  ...commonSettings,
  realm: setting.string('SIPNATS_REALM', {
    doc: 'Digest realm of the registrar (and of the users file entries that apply).',
    default: 'sipnats',
    pattern: /^[^"\\\r\n]{1,128}$/,
  }),
  authSecret: setting.string('SIPNATS_AUTH_SECRET', {
    doc: 'HMAC key (at least 16 characters) of the stateless digest nonces; the same on every ua instance. Required in production; otherwise a random per-process key is used (single instance only).',
    optional: true,
    secret: true,
    pattern: /^.{16,}$/,
  }),
  authRequired: setting.bool('SIPNATS_AUTH_REQUIRED', {
    doc: 'Challenge REGISTER with digest authentication (off: every REGISTER is accepted).',
    default: true,
  }),
  usersFile: setting.file('SIPNATS_USERS_FILE', {
    doc: 'Credentials file: `user:realm:ha1md5:ha1sha256` lines or JSON `{ "users": [...] }`.',
    optional: true,
    secret: true,
  }),
  usersBucket: setting.string('SIPNATS_USERS_BUCKET', {
    doc: 'KV bucket holding credentials (key `<realm>.<user>`, value `{ username, realm, ha1: { md5?, sha256? } }`), consulted after the users file.',
    optional: true,
    pattern: BUCKET,
  }),
  digestAlgorithms: setting.list('SIPNATS_DIGEST_ALGORITHMS', {
    doc: 'Digest algorithms offered (one WWW-Authenticate each, in this order) and accepted: SHA-256, SHA-256-sess, MD5, MD5-sess. Clients that answer only the first challenge and know only MD5 (e.g. SIPp) need MD5 first or alone.',
    default: ['SHA-256', 'MD5'],
    itemPattern: /^(SHA-256|SHA-256-sess|MD5|MD5-sess)$/i,
  }),
  nonceLifetime: setting.duration('SIPNATS_NONCE_LIFETIME', { doc: 'How long a digest nonce is accepted.', default: 300_000, min: 1000, max: 86_400_000 }),
  minExpires: setting.int('SIPNATS_MIN_EXPIRES', { doc: 'Shortest registration accepted, seconds (423 below).', default: 60, min: 1, max: 86_400 }),
  maxExpires: setting.int('SIPNATS_MAX_EXPIRES', { doc: 'Longest registration granted, seconds.', default: 3600, min: 1, max: 604_800 }),
  defaultExpires: setting.int('SIPNATS_DEFAULT_EXPIRES', { doc: 'Registration expiry when the request gives none, seconds.', default: 3600, min: 1, max: 604_800 }),
  maxContacts: setting.int('SIPNATS_MAX_CONTACTS', { doc: 'Most bindings per address of record.', default: 10, min: 1, max: 16 }),
  domains: setting.list('SIPNATS_DOMAINS', { doc: 'Domains the registrar serves (empty: any).', optional: true }),
  bindingsBucket: setting.string('SIPNATS_BINDINGS_BUCKET', { doc: 'KV bucket of registrations.', default: 'sipnats_bindings', pattern: BUCKET }),
  flowsBucket: setting.string('SIPNATS_FLOWS_BUCKET', {
    doc: 'KV bucket of the registrar\'s index by connection flow (which AoRs have bindings on a TCP/TLS/WS/WSS connection), so that the bindings of a closed connection are removed; created with a max age of 2 × SIPNATS_MAX_EXPIRES + 2 min.',
    default: 'sipnats_flows',
    pattern: BUCKET,
  }),
  callsBucket: setting.string('SIPNATS_CALLS_BUCKET', { doc: 'KV bucket of calls and their indexes.', default: 'sipnats_calls', pattern: BUCKET }),
  noncesBucket: setting.string('SIPNATS_NONCES_BUCKET', { doc: 'KV bucket of digest nonce counts (replay protection).', default: 'sipnats_nonces', pattern: BUCKET }),
  kvReplicas: setting.int('SIPNATS_KV_REPLICAS', { doc: 'Replicas of the KV buckets created at start (1, 3 or 5).', default: 1, min: 1, max: 5 }),
  kvStorage: setting.oneOf('SIPNATS_KV_STORAGE', ['file', 'memory'] as const, {
    doc: 'Storage of the KV buckets created at start: file (survives a nats-server restart) or memory (faster writes; lost when the server restarts unless replicated). An existing bucket keeps its storage.',
    default: 'file',
  }),
  kvTimeout: setting.duration('SIPNATS_KV_TIMEOUT', { doc: 'Longest wait for one KV operation before the request is answered 503.', default: 2000, min: 50, max: 60_000 }),
  callTtl: setting.duration('SIPNATS_CALL_TTL', {
    doc: 'Age after which call records are removed from KV (longest call).',
    default: 43_200_000,
    min: 60_000,
  }),
  answerTimeout: setting.duration('SIPNATS_ANSWER_TIMEOUT', {
    doc: 'Longest wait for a controller to answer or reject an inbound call.',
    default: 30_000,
    min: 100,
    max: 3_600_000,
  }),
  answerTimeoutStatus: setting.int('SIPNATS_ANSWER_TIMEOUT_STATUS', {
    doc: 'Final response sent when no controller answered in time.',
    default: 480,
    min: 300,
    max: 699,
  }),
  updatePolicy: setting.oneOf('SIPNATS_UPDATE_POLICY', ['accept', 'controller'] as const, {
    doc: 'Peer re-INVITE/UPDATE with SDP: `accept` answers at once with the last local SDP; `controller` waits for an answer/update command (accept when none comes within SIPNATS_UPDATE_TIMEOUT).',
    default: 'accept',
  }),
  updateTimeout: setting.duration('SIPNATS_UPDATE_TIMEOUT', {
    doc: 'With SIPNATS_UPDATE_POLICY=controller: wait this long for the controller before accepting.',
    default: 5000,
    min: 100,
    max: 60_000,
  }),
  transferTimeout: setting.duration('SIPNATS_TRANSFER_TIMEOUT', {
    doc: 'Blind transfer (REFER): longest wait for the next NOTIFY of our REFER, and for the controller\'s hangup after the peer\'s REFER (then the peer is NOTIFYed 408).',
    default: 120_000,
    min: 1000,
    max: 3_600_000,
  }),
  sessionExpires: setting.int('SIPNATS_SESSION_EXPIRES', {
    doc: 'Preferred RFC 4028 session interval, seconds (0: no session timer unless the caller asks for one).',
    default: 1800,
    min: 0,
    max: 86_400,
  }),
  minSE: setting.int('SIPNATS_MIN_SE', { doc: 'RFC 4028 Min-SE, seconds (422 below it).', default: 90, min: 90, max: 86_400 }),
  t1: setting.duration('SIP_T1', { doc: 'RFC 3261 T1 for the ua\'s own retransmissions (reliable provisionals).', default: 500, min: 10, max: 60_000 }),
  sweepInterval: setting.duration('SIPNATS_SWEEP_INTERVAL', {
    doc: 'Period of the sweep for due call timers and the removal of ended calls (runs on every instance, CAS-guarded).',
    default: 1000,
    min: 50,
    max: 60_000,
  }),
  regSweepInterval: setting.duration('SIPNATS_REG_SWEEP_INTERVAL', {
    doc: 'Mean period of the registration expiry sweep of each instance (each pass at ±25 %, so instances drift apart); bindings are removed at most about this late.',
    default: 10_000,
    min: 100,
    max: 600_000,
  }),
  maxConcurrency: setting.int('SIPNATS_MAX_CONCURRENCY', { doc: 'Requests and commands handled at once (each mostly waits on KV round trips: at 64, 400 bridged calls/s queued for slots while the event loop had time to spare).', default: 256, min: 1, max: 10_000 }),
  maxQueue: setting.int('SIPNATS_MAX_QUEUE', { doc: 'Requests waiting for a slot; beyond it new requests get 503.', default: 2000, min: 1, max: 1_000_000 }),
  maxQueueWait: setting.duration('SIPNATS_MAX_QUEUE_WAIT', {
    doc: 'A request that would start a dialog or stands alone (INVITE without To tag, REGISTER, OPTIONS...) and waited longer than this for a slot, or was already older than this (from its receive time at the transport) when it reached a ua with requests waiting, gets 503 instead of being handled (an INVITE only when no call holds it): under overload the oldest work is the least worth doing (its caller may have given up, the transport has published it again), and refusing it lets the service catch up soon after the overload ends.',
    default: 2000,
    min: 50,
    max: 600_000,
  }),
  retryAfter: setting.int('SIPNATS_RETRY_AFTER', { doc: 'Seconds in Retry-After of a 503.', default: 5, min: 1, max: 3600 }),
  drainTimeout: setting.duration('SIPNATS_DRAIN_TIMEOUT', { doc: 'On SIGTERM, longest wait for in-flight work.', default: 10_000, min: 0, max: 600_000 }),
  trunksFile: setting.file('SIPNATS_TRUNKS_FILE', {
    doc: 'Trunks to register with (outbound REGISTER with digest): JSON `{ "trunks": [{ id, registrar, aor, contact, username, password, realm?, expires? }] }`.',
    optional: true,
    secret: true,
  }),
  routesFile: setting.file('SIPNATS_ROUTES_FILE', {
    doc: 'Static routes of the bridge for users that are not registered: JSON `{ "routes": [{ prefix, target ({user} replaced), username?, password?, realm? }] }`.',
    optional: true,
    secret: true,
  }),
  routing: setting.oneOf('SIPNATS_ROUTING', ['controller', 'bridge'] as const, {
    doc: 'Inbound calls: `controller` offers them to controllers; `bridge` also bridges each one at once (registered user, else static route, else 404).',
    default: 'controller',
  }),
  dnsServers: setting.list('SIPNATS_DNS_SERVERS', { doc: 'DNS servers for RFC 3263 resolution of outbound targets (`ip` or `ip:port`; empty: the system ones).', optional: true }),
  targetBlacklist: setting.duration('SIPNATS_TARGET_BLACKLIST', {
    doc: 'How long a next hop that timed out or answered 503 is tried last (RFC 3263 §4.3).',
    default: 30_000,
    min: 0,
    max: 3_600_000,
  }),
  userAgent: setting.string('SIPNATS_USER_AGENT', { doc: 'Server / User-Agent header value.', default: 'sipnats-ua' }),
} as const;

export type UaConfig = DeepReadonly<ConfigOf<typeof uaSettings>>;

export function uaChecks(c: UaConfig): string[] {
  const problems = natsChecks(c.nats);
  if (c.minExpires > c.maxExpires) problems.push('SIPNATS_MIN_EXPIRES must not exceed SIPNATS_MAX_EXPIRES');
  if (c.env === 'production' && c.authSecret === undefined) problems.push('SIPNATS_AUTH_SECRET: required in production');
  if (![1, 3, 5].includes(c.kvReplicas)) problems.push('SIPNATS_KV_REPLICAS must be 1, 3 or 5');
  return problems;
}
