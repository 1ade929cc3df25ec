/**
 * Digest computations of RFC 7616 §3.4 (as used by SIP, RFC 3261 §22.4 and RFC 8760):
 * A1/HA1 (plain and `-sess`), A2 for qop=auth, and the request-digest with and without qop.
 */
import { createHash } from 'node:crypto';

/** The algorithms sipnats offers and accepts, in order of preference. */
export const DigestAlgorithm = {
  SHA256: 'SHA-256',
  SHA256_SESS: 'SHA-256-sess',
  MD5: 'MD5',
  MD5_SESS: 'MD5-sess',
} as const;
export type DigestAlgorithm = (typeof DigestAlgorithm)[keyof typeof DigestAlgorithm];

/** The hash family of an algorithm; credential stores keep one HA1 per family. */
export type HashFamily = 'md5' | 'sha256';

const BY_NAME: ReadonlyMap<string, DigestAlgorithm> = new Map(
  Object.values(DigestAlgorithm).map((a) => [a.toLowerCase(), a] as const),
);

/** Resolves an `algorithm` parameter (case-insensitive; absent means MD5 per RFC 7616 §3.3). */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return DigestAlgorithm.MD5;
  return BY_NAME.get(value.trim().toLowerCase());
}

export function hashFamily(algorithm: DigestAlgorithm): HashFamily {
  return algorithm === DigestAlgorithm.MD5 || algorithm === DigestAlgorithm.MD5_SESS ? 'md5' : 'sha256';
}

export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

/** Lower-case hex length of a hash of this family. */
export function hashHexLength(family: HashFamily): number {
  return family === 'md5' ? 32 : 64;
}

/** H(data) as lower-case hex. */
export function digestHex(family: HashFamily, data: string): string {
  return createHash(family === 'md5' ? 'md5' : 'sha256').update(data, 'utf8').digest('hex');
}

/** HA1 = H(username:realm:password), what credential stores keep instead of the password. */
export function computeHa1(family: HashFamily, username: string, realm: string, password: string): string {
  return digestHex(family, `${username}:${realm}:${password}`);
}

export interface ResponseInput {
  readonly algorithm: DigestAlgorithm;
  /** H(username:realm:password) of the algorithm's family. */
  readonly ha1: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  /** 'auth' or undefined (RFC 2069 compatibility: no cnonce, no nc). */
  readonly qop: 'auth' | undefined;
  readonly nc: string | undefined;
  readonly cnonce: string | undefined;
}

/** The request-digest (`response` parameter) of RFC 7616 §3.4.1. */
export function computeResponse(input: ResponseInput): string {
  const family = hashFamily(input.algorithm);
  let ha1 = input.ha1.toLowerCase();
  if (isSessionAlgorithm(input.algorithm)) {
    // RFC 7616 §3.4.2: A1 = H(user:realm:pass):nonce:cnonce for the -sess variants.
    ha1 = digestHex(family, `${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  }
  const ha2 = digestHex(family, `${input.method}:${input.uri}`);
  if (input.qop === 'auth') {
    return digestHex(family, `${ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:auth:${ha2}`);
  }
  return digestHex(family, `${ha1}:${input.nonce}:${ha2}`);
}
