/**
 * Errors of the auth module, each with a stable code.
 */

export const AuthErrorCode = {
  /** A credentials file line or JSON entry is malformed. */
  CREDENTIAL_FILE: 'UA_AUTH_CREDENTIAL_FILE',
  /** A configuration value (secret, realm, lifetimes) is not acceptable. */
  CONFIG: 'UA_AUTH_CONFIG',
  /** A challenge cannot be answered (not Digest, unsupported algorithm or qop, missing nonce). */
  CHALLENGE: 'UA_AUTH_CHALLENGE',
} as const;
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
