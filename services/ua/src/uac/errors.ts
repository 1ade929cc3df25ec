/**
 * Errors of the UAC session, each with a stable code.
 */

export const UacErrorCode = {
  /** An originate input (URI, header, SDP, timeout) is not usable. */
  INVALID: 'UA_UAC_INVALID',
} as const;
export type UacErrorCode = (typeof UacErrorCode)[keyof typeof UacErrorCode];

export class UacError extends Error {
  override readonly name = 'UacError';
  readonly code: UacErrorCode;

  constructor(code: UacErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
