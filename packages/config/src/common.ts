/** Settings every sipnats service shares: spread `commonSettings` into a service spec. */
import { hostname } from 'node:os';
import type { DeepReadonly } from './load.js';
import { setting } from './setting.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ENVIRONMENTS = ['development', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * A subject prefix: dot-separated NATS tokens (printable ASCII without `.`, `*`, `>`), at most 128
 * characters (what @sipnats/contracts `subjects()` accepts).
 */
export const PREFIX_PATTERN = /^(?=.{1,128}$)[!-)+-\-/-=?-~]+(\.[!-)+-\-/-=?-~]+)*$/;
/** An instance id: 1-64 characters of letters, digits, `.`, `_`, `-` (encoded into subject tokens). */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** `host:port` or `[v6]:port`, port 0-65535 (so that parseHostPort never throws on a checked value). */
export const HOST_PORT_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})$/;

/** Instance id derived from the host name: allowed characters only, at most 64. */
export function defaultInstanceId(): string {
  const h = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  return h.length > 0 ? h : 'sipnats';
}

export const natsSettings = {
  servers: setting.list('NATS_URL', {
    doc: 'NATS server URLs, comma-separated',
    default: ['nats://127.0.0.1:4222'],
    itemPattern: /^((nats|tls|ws|wss):\/\/)?[^\s,/]+(:[0-9]{1,5})?\/?$/,
  }),
  user: setting.string('NATS_USER', { doc: 'NATS user name', optional: true }),
  password: setting.string('NATS_PASSWORD', { doc: 'NATS password', secret: true, optional: true }),
  token: setting.string('NATS_TOKEN', { doc: 'NATS authentication token', secret: true, optional: true }),
  creds: setting.file('NATS_CREDS', { doc: 'NATS credentials file (JWT + NKey seed)', optional: true }),
  tls: setting.bool('NATS_TLS', { doc: 'Require TLS to NATS', default: false }),
  tlsCa: setting.file('NATS_TLS_CA', { doc: 'CA bundle to verify the NATS server', optional: true }),
  tlsCert: setting.file('NATS_TLS_CERT', { doc: 'Client certificate for NATS (with NATS_TLS_KEY)', optional: true }),
  tlsKey: setting.file('NATS_TLS_KEY', { doc: 'Client key for NATS (with NATS_TLS_CERT)', optional: true, secret: true }),
} as const;

export const commonSettings = {
  nats: natsSettings,
  prefix: setting.string('SIPNATS_PREFIX', { doc: 'Subject prefix', default: 'sip', pattern: PREFIX_PATTERN }),
  instanceId: setting.string('SIPNATS_INSTANCE_ID', {
    doc: 'Id of this instance (unique among instances of the service); default from the host name',
    default: defaultInstanceId,
    pattern: INSTANCE_ID_PATTERN,
  }),
  logLevel: setting.oneOf('LOG_LEVEL', LOG_LEVELS, { doc: 'Log level', default: 'info' }),
  httpListen: setting.string('HTTP_LISTEN', {
    doc: 'host:port of the /healthz, /readyz and /metrics listener (port 0: ephemeral, logged at start)',
    default: '127.0.0.1:0',
    pattern: HOST_PORT_PATTERN,
  }),
  env: setting.oneOf('SIPNATS_ENV', ENVIRONMENTS, { doc: 'development or production (production enforces secrets)', default: 'development' }),
} as const;

type NatsConfig = DeepReadonly<{
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
  creds?: string | undefined;
  tls: boolean;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}>;

/** Cross-checks of the nats settings (pass in `checks`): cert and key together, one auth method. */
export function natsChecks(nats: NatsConfig): string[] {
  const problems: string[] = [];
  if ((nats.tlsCert === undefined) !== (nats.tlsKey === undefined)) problems.push('NATS_TLS_CERT and NATS_TLS_KEY: set both or neither');
  const auth = [nats.user !== undefined || nats.password !== undefined, nats.token !== undefined, nats.creds !== undefined].filter(Boolean).length;
  if (auth > 1) problems.push('NATS_USER/NATS_PASSWORD, NATS_TOKEN and NATS_CREDS: use only one authentication method');
  if ((nats.user === undefined) !== (nats.password === undefined)) problems.push('NATS_USER and NATS_PASSWORD: set both or neither');
  return problems;
}

/** Parses a HOST_PORT_PATTERN value (already validated) into host (without brackets) and port. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = HOST_PORT_PATTERN.exec(value);
  if (m === null || m[1] === undefined || m[2] === undefined) throw new RangeError(`not host:port: ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port > 65535) throw new RangeError(`port out of range: ${port}`);
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}
