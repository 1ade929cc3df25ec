/**
 * Errors of the RFC 3263 resolver, each with a stable code.
 */

export const ResolverErrorCode = {
  /** The URI cannot be resolved (scheme, host, transport parameter). */
  INVALID_URI: 'UA_RESOLVER_INVALID_URI',
  /** A DNS query failed (timeout, SERVFAIL, refused), as opposed to a name without records. */
  DNS: 'UA_RESOLVER_DNS',
  /** A configuration value (DNS servers, sizes) is not acceptable. */
  CONFIG: 'UA_RESOLVER_CONFIG',
} as const;
export type ResolverErrorCode = (typeof ResolverErrorCode)[keyof typeof ResolverErrorCode];

export class ResolverError extends Error {
  override readonly name = 'ResolverError';
  readonly code: ResolverErrorCode;

  constructor(code: ResolverErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
