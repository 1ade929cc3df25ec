/**
 * Client side of HTTP digest (RFC 7616 §3.4, RFC 3261 §22.2): answers a 401/407 challenge with an
 * Authorization / Proxy-Authorization value. Pure: the caller supplies cnonce and nc, or uses
 * DigestClient which counts nc per nonce and draws cnonces from an injected random source.
 */
import type { RandomSource } from '../ports.js';
import type { AuthValueView } from '../sip-view.js';
import { quote } from '../sip-view.js';
import { computeHa1, computeResponse, DigestAlgorithm, hashFamily, parseAlgorithm } from './digest-algorithm.js';
import { AuthError, AuthErrorCode } from './errors.js';

export interface ClientSecret {
  readonly username: string;
  /** Either the password or the HA1 of the challenge's hash family. */
  readonly password?: string;
  readonly ha1?: { readonly md5?: string; readonly sha256?: string };
}

export interface AuthorizationInput {
  readonly challenge: AuthValueView;
  readonly method: string;
  /** The Request-URI of the request being authorised. */
  readonly uri: string;
  readonly secret: ClientSecret;
  readonly cnonce: string;
  /** Nonce-count, 1 for the first use of a nonce. */
  readonly nc: number;
}

const PREFERENCE: readonly DigestAlgorithm[] = [
  DigestAlgorithm.SHA256,
  DigestAlgorithm.SHA256_SESS,
  DigestAlgorithm.MD5,
  DigestAlgorithm.MD5_SESS,
];

/** Picks the strongest Digest challenge we can answer (RFC 8760 §2.4), or undefined. */
export function pickChallenge(challenges: readonly AuthValueView[]): AuthValueView | undefined {
  let best: AuthValueView | undefined;
  let bestRank = PREFERENCE.length;
  for (const c of challenges) {
    if (c.scheme.toLowerCase() !== 'digest' || c.params.get('nonce') === undefined) continue;
    const algorithm = parseAlgorithm(c.params.get('algorithm'));
    const qop = c.params.get('qop');
    if (algorithm === undefined) continue;
    if (qop !== undefined && !qop.split(',').some((q) => q.trim().toLowerCase() === 'auth')) continue;
    const rank = PREFERENCE.indexOf(algorithm);
    if (rank < bestRank) {
      best = c;
      bestRank = rank;
    }
  }
  return best;
}

/** Formats nc as the 8 hex digits of RFC 7616 §3.4. */
export function formatNc(nc: number): string {
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) throw new AuthError(AuthErrorCode.CHALLENGE, `nc out of range: ${nc}`);
  return nc.toString(16).padStart(8, '0');
}

/** The credentials value (`Digest username=...`) answering `challenge`. */
export function buildAuthorization(input: AuthorizationInput): string {
  const { challenge } = input;
  if (challenge.scheme.toLowerCase() !== 'digest') {
    throw new AuthError(AuthErrorCode.CHALLENGE, `cannot answer a ${challenge.scheme} challenge`);
  }
  const realm = challenge.params.get('realm') ?? '';
  const nonce = challenge.params.get('nonce');
  if (nonce === undefined) throw new AuthError(AuthErrorCode.CHALLENGE, 'challenge has no nonce');
  const algorithmParam = challenge.params.get('algorithm');
  const algorithm = parseAlgorithm(algorithmParam);
  if (algorithm === undefined) throw new AuthError(AuthErrorCode.CHALLENGE, `unsupported algorithm ${algorithmParam ?? ''}`);
  const qopOffer = challenge.params.get('qop');
  let qop: 'auth' | undefined;
  if (qopOffer !== undefined) {
    if (!qopOffer.split(',').some((q) => q.trim().toLowerCase() === 'auth')) {
      throw new AuthError(AuthErrorCode.CHALLENGE, `unsupported qop ${qopOffer}`);
    }
    qop = 'auth';
  }
  const family = hashFamily(algorithm);
  const { secret } = input;
  const ha1 =
    secret.ha1?.[family] ??
    (secret.password === undefined ? undefined : computeHa1(family, secret.username, realm, secret.password));
  if (ha1 === undefined) throw new AuthError(AuthErrorCode.CHALLENGE, `no ${family} secret for ${secret.username}`);
  const nc = qop === 'auth' ? formatNc(input.nc) : undefined;
  const cnonce = qop === 'auth' || algorithm.endsWith('-sess') ? input.cnonce : undefined;
  const response = computeResponse({ algorithm, ha1, nonce, method: input.method, uri: input.uri, qop, nc, cnonce });

  const parts = [
    `username=${quote(secret.username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(input.uri)}`,
    `response=${quote(response)}`,
    `algorithm=${algorithmParam === undefined ? DigestAlgorithm.MD5 : algorithm}`,
  ];
  if (cnonce !== undefined) parts.push(`cnonce=${quote(cnonce)}`);
  const opaque = challenge.params.get('opaque');
  if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
  if (qop !== undefined && nc !== undefined) parts.push(`qop=${qop}`, `nc=${nc}`);
  return `Digest ${parts.join(', ')}`;
}

/**
 * Counts nc per nonce for a UAC and draws cnonces. Keeps at most `maxNonces` nonces (oldest go).
 */
export class DigestClient {
  readonly #random: RandomSource;
  readonly #counts = new Map<string, number>();
  readonly #maxNonces: number;

  constructor(random: RandomSource, maxNonces = 64) {
    this.#random = random;
    this.#maxNonces = maxNonces;
  }

  /** Header name and value answering the best of `challenges` (from a 401 or 407 response). */
  authorize(
    status: 401 | 407,
    challenges: readonly AuthValueView[],
    method: string,
    uri: string,
    secret: ClientSecret,
  ): readonly [name: string, value: string] {
    const challenge = pickChallenge(challenges);
    if (challenge === undefined) throw new AuthError(AuthErrorCode.CHALLENGE, 'no digest challenge we can answer');
    const nonce = challenge.params.get('nonce') ?? '';
    const nc = (this.#counts.get(nonce) ?? 0) + 1;
    this.#counts.delete(nonce);
    this.#counts.set(nonce, nc);
    while (this.#counts.size > this.#maxNonces) {
      const oldest = this.#counts.keys().next().value;
      if (oldest === undefined) break;
      this.#counts.delete(oldest);
    }
    const cnonce = Buffer.from(this.#random(12)).toString('base64url');
    const value = buildAuthorization({ challenge, method, uri, secret, cnonce, nc });
    return [status === 401 ? 'Authorization' : 'Proxy-Authorization', value];
  }
}
