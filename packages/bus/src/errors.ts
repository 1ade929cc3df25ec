export const BUS_ERROR = {
  connect: 'SIPNATS_ERR_BUS_CONNECT',
  kvConflict: 'SIPNATS_ERR_KV_CONFLICT',
  kvValue: 'SIPNATS_ERR_KV_VALUE',
  kvKey: 'SIPNATS_ERR_KV_KEY',
  service: 'SIPNATS_ERR_SERVICE',
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
