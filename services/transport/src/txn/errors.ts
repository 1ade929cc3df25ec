/**
 * Errors of the transaction layer. Each has a stable `code` that is never reused.
 */

export const TxnErrorCode = {
  /** The client transaction table is full (`limits.maxClientTxns`). */
  OVERLOAD: 'TXN_ERR_OVERLOAD',
  /** A client transaction with the same branch and method already exists. */
  DUPLICATE: 'TXN_ERR_DUPLICATE',
  /** The request cannot start a client transaction (ACK, no top Via, no branch). */
  INVALID_REQUEST: 'TXN_ERR_INVALID_REQUEST',
  /** The layer was closed. */
  CLOSED: 'TXN_ERR_CLOSED',
  /** A send on the transport failed (wraps the transport's error as `cause`). */
  TRANSPORT: 'TXN_ERR_TRANSPORT',
  /** Timer values or limits are not usable. */
  CONFIG: 'TXN_ERR_CONFIG',
} as const;
export type TxnErrorCode = (typeof TxnErrorCode)[keyof typeof TxnErrorCode];

export class TxnError extends Error {
  override readonly name = 'TxnError';
  readonly code: TxnErrorCode;

  constructor(code: TxnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Normalises whatever a transport threw into a TxnError with the original as cause. */
export function transportError(cause: unknown): TxnError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new TxnError(TxnErrorCode.TRANSPORT, `transport send failed: ${detail}`, { cause });
}
