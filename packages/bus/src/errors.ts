export const BUS_ERROR = {
  connect: 'SIPNATS_ERR_BUS_CONNECT',
  kvConflict: 'SIPNATS_ERR_KV_CONFLICT',
  kvValue: 'SIPNATS_ERR_KV_VALUE',
  kvKey: 'SIPNATS_ERR_KV_KEY',
  service: 'SIPNATS_ERR_SERVICE',
  request: 'SIPNATS_ERR_BUS_REQUEST',
  kvStatus: 'SIPNATS_ERR_KV_STATUS',
} as const;
export type BusErrorCode = (typeof BUS_ERROR)[keyof typeof BUS_ERROR];

export class BusError extends Error {
  readonly code: BusErrorCode;
  constructor(code: BusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BusError';
    this.code = code;
  }
}

/** A compare-and-set on a KV key lost: the revision moved (or the key exists for a create). */
export class KvConflictError extends BusError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(BUS_ERROR.kvConflict, message, options);
    this.name = 'KvConflictError';
    this.key = key;
  }
}

/** Why a request through RequestMux got no answer. */
export type NatsRequestFailure = 'no-responders' | 'timeout' | 'disconnected' | 'closed';

/**
 * A request that got no answer: nobody listens on its subject (the server's 503), none came before
 * its deadline, or its connection was lost or closed. Each may go away on its own (a NATS failover).
 */
export class NatsRequestError extends BusError {
  readonly reason: NatsRequestFailure;
  readonly subject: string;
  constructor(reason: NatsRequestFailure, subject: string, message: string, options?: { cause?: unknown }) {
    super(BUS_ERROR.request, message, options);
    this.name = 'NatsRequestError';
    this.reason = reason;
    this.subject = subject;
  }
}

/** A status reply of the JetStream direct-get API other than "not found" (e.g. 408, 503). */
export class KvStatusError extends BusError {
  readonly status: number;
  constructor(status: number, description: string) {
    super(BUS_ERROR.kvStatus, `KV read answered ${status}${description === '' ? '' : ` ${description}`}`);
    this.name = 'KvStatusError';
    this.status = status;
  }
}
