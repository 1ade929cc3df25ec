/** @sipnats/logging: one pino logger per process, credentials redacted. */
export { createLogger, REDACT_PATHS, REDACT_CENSOR, LOG_LEVEL_NAMES, type LogLevelName, type CreateLoggerOptions, type Logger, type DestinationStream } from './logger.js';
export { redactSipText } from './redact-sip.js';
