/** Errors of the ua service wiring (stores, messaging), each with a stable code. */

export const UA_ERROR = {
  /** KV or NATS did not answer in time or failed: the request is answered 503. */
  storeUnavailable: 'UA_STORE_UNAVAILABLE',
  /** A stored value does not have the expected shape. */
  storeCorrupt: 'UA_STORE_CORRUPT',
  /** A limit (work queue, pending client transactions) is reached. */
  overloaded: 'UA_OVERLOADED',
  /** A SIP message to send could not be built. */
  encode: 'UA_ENCODE',
} as const;
export type UaErrorCode = (typeof UA_ERROR)[keyof typeof UA_ERROR];

export class UaError extends Error {
  readonly code: UaErrorCode;
  constructor(code: UaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UaError';
    this.code = code;
  }
}

/** True for failures of KV/NATS (answer 503 with Retry-After), as opposed to bugs. */
export function isUnavailable(err: unknown): boolean {
  return err instanceof UaError && err.code === UA_ERROR.storeUnavailable;
}
