/**
 * createLogger: the one root pino logger of a process (no global instance). Credentials are redacted
 * by path; raw SIP text should pass through `redactSipText` before it is logged.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger, DestinationStream } from 'pino';

export const LOG_LEVEL_NAMES = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

export const REDACT_CENSOR = '[redacted]';

const SECRET_KEYS = ['authorization', 'proxyAuthorization', 'password', 'pass', 'secret', 'token', 'credentials', 'nkey', 'seed'];
/** Header-map members (path suffixes after `headers`). */
const HEADER_KEYS = ['.authorization', '["proxy-authorization"]', '.Authorization', '["Proxy-Authorization"]', '.proxyAuthorization'];

/** Redacted paths: secret keys at the top level and up to three levels deep, and header maps. */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.*.${k}`),
  ...HEADER_KEYS.map((k) => `headers${k}`),
  ...HEADER_KEYS.map((k) => `*.headers${k}`),
  ...HEADER_KEYS.map((k) => `*.*.headers${k}`),
]);

export interface CreateLoggerOptions {
  /** Service or tool name (`name` in every line). */
  name: string;
  level: LogLevelName;
  /** Instance id (`instance` in every line). */
  instance?: string;
  /** Where lines go; default stdout. Tests pass a stream to capture output. */
  destination?: DestinationStream;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const base: Record<string, unknown> = { name: opts.name, pid: process.pid };
  if (opts.instance !== undefined) base['instance'] = opts.instance;
  const options: LoggerOptions = {
    level: opts.level,
    base,
    messageKey: 'msg',
    redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}
