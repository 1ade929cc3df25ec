/**
 * Server side of HTTP digest for SIP (RFC 3261 §22.4, RFC 7616, RFC 8760): challenges and
 * verification of Authorization / Proxy-Authorization credentials.
 *
 * Decisions:
 * - Challenges offer every configured algorithm, one header each, strongest first (RFC 8760 §2.4),
 *   all with qop="auth", the same nonce, and an opaque bound to the realm.
 * - Nonces are stateless (see nonce.ts); an expired nonce with a correct digest gets a new
 *   challenge with stale=true (RFC 7616 §3.3).
 * - Replay: nc must grow per nonce (CAS on the nonce-count store); a nonce used without qop
 *   (RFC 2069 form) is single use.
 * - The digest is checked before the nonce-count store is touched, so unauthenticated traffic
 *   cannot burn counts.
 * - `uri` must equal the Request-URI (400, RFC 7616 §3.4.6); a wrong password or an unknown
 *   user is 403 (the caller may prefer to challenge again instead).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthValueView, Header } from '../sip-view.js';
import { quote } from '../sip-view.js';
import { computeResponse, DigestAlgorithm, hashFamily, parseAlgorithm } from './digest-algorithm.js';
import type { HashFamily } from './digest-algorithm.js';
import type { CredentialStore, UserCredentials } from './credential-store.js';
import type { NonceService } from './nonce.js';
import { nonceKey } from './nonce-count-store.js';
import type { NonceCountStore } from './nonce-count-store.js';
import { AuthError, AuthErrorCode } from './errors.js';

/** 'www': 401 with WWW-Authenticate (registrar, UAS); 'proxy': 407 with Proxy-Authenticate. */
export type ChallengeMode = 'www' | 'proxy';

export type ChallengeReason =
  | 'no-credentials'
  | 'realm-mismatch'
  | 'unsupported-algorithm'
  | 'nonce-invalid'
  | 'nonce-stale'
  | 'opaque-mismatch'
  | 'replay';
export type ForbiddenReason = 'bad-response' | 'unknown-user' | 'username-mismatch';
export type BadRequestReason = 'malformed' | 'uri-mismatch' | 'unsupported-qop';

export type AuthResult =
  | {
      readonly kind: 'ok';
      readonly user: UserCredentials;
      readonly algorithm: DigestAlgorithm;
      /** The nonce-count accepted (0 without qop). */
      readonly nc: number;
    }
  | {
      readonly kind: 'challenge';
      readonly reason: ChallengeReason;
      readonly stale: boolean;
      readonly status: 401 | 407;
      /** WWW-Authenticate or Proxy-Authenticate headers to put in the response. */
      readonly headers: readonly Header[];
    }
  | { readonly kind: 'forbidden'; readonly reason: ForbiddenReason; readonly status: 403 }
  | { readonly kind: 'bad-request'; readonly reason: BadRequestReason; readonly status: 400; readonly detail: string };

export interface DigestServerOptions {
  readonly realm: string;
  readonly nonces: NonceService;
  readonly counts: NonceCountStore;
  readonly credentials: CredentialStore;
  /** Offered and accepted, strongest first. Default SHA-256, MD5. */
  readonly algorithms?: readonly DigestAlgorithm[];
  readonly mode?: ChallengeMode;
  /** Refuse credentials without qop (RFC 2069 form). Default false (RFC 3261 §22.4 compat). */
  readonly requireQop?: boolean;
}

export interface AuthRequest {
  readonly method: string;
  /** The Request-URI exactly as received. */
  readonly requestUri: string;
  /** Authorization (mode 'www') or Proxy-Authorization (mode 'proxy') values. */
  readonly credentials: readonly AuthValueView[];
  /** When set, the digest username must equal it (e.g. the user part of the To AoR). */
  readonly expectedUsername?: string;
  readonly now: number;
}

const CAS_ATTEMPTS = 4;
const NC = /^[0-9a-fA-F]{8}$/;

export class DigestAuthenticator {
  readonly #o: DigestServerOptions;
  readonly #algorithms: readonly DigestAlgorithm[];
  readonly #opaque: string;

  constructor(options: DigestServerOptions) {
    if (options.realm === '' || /["\\\r\n]/.test(options.realm)) {
      throw new AuthError(AuthErrorCode.CONFIG, 'realm must be non-empty without quotes, backslashes or line breaks');
    }
    this.#algorithms = options.algorithms ?? [DigestAlgorithm.SHA256, DigestAlgorithm.MD5];
    if (this.#algorithms.length === 0) throw new AuthError(AuthErrorCode.CONFIG, 'at least one digest algorithm');
    this.#o = options;
    this.#opaque = createHash('sha256').update(`sipnats:${options.realm}`).digest('base64url').slice(0, 22);
  }

  get realm(): string {
    return this.#o.realm;
  }

  /** A fresh challenge (401/407 headers), e.g. for a request without credentials. */
  challenge(now: number, stale = false, reason: ChallengeReason = 'no-credentials', families?: ReadonlySet<HashFamily>): Extract<AuthResult, { kind: 'challenge' }> {
    const mode = this.#o.mode ?? 'www';
    const name = mode === 'www' ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const nonce = this.#o.nonces.issue(this.#o.realm, now);
    const offered = families === undefined ? this.#algorithms : this.#algorithms.filter((a) => families.has(hashFamily(a)));
    const headers: Header[] = (offered.length > 0 ? offered : this.#algorithms).map((algorithm) => [
      name,
      `Digest realm=${quote(this.#o.realm)}, nonce=${quote(nonce)}, opaque=${quote(this.#opaque)}, ` +
        `algorithm=${algorithm}, qop="auth"${stale ? ', stale=true' : ''}`,
    ]);
    return { kind: 'challenge', reason, stale, status: mode === 'www' ? 401 : 407, headers };
  }

  /** Verifies the credentials of a request. */
  async verify(request: AuthRequest): Promise<AuthResult> {
    const { now } = request;
    const digest = request.credentials.filter((c) => c.scheme.toLowerCase() === 'digest');
    if (digest.length === 0) return this.challenge(now, false, 'no-credentials');
    const mine = digest.find((c) => c.params.get('realm') === this.#o.realm);
    if (mine === undefined) return this.challenge(now, false, 'realm-mismatch');
    const p = mine.params;

    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return badRequest('malformed', 'digest credentials need username, realm, nonce, uri and response');
    }
    const algorithm = parseAlgorithm(p.get('algorithm'));
    if (algorithm === undefined || !this.#algorithms.includes(algorithm)) {
      return this.challenge(now, false, 'unsupported-algorithm');
    }
    const qopRaw = p.get('qop');
    let qop: 'auth' | undefined;
    let nc = 0;
    const cnonce = p.get('cnonce');
    const ncRaw = p.get('nc');
    if (qopRaw !== undefined) {
      if (qopRaw.toLowerCase() !== 'auth') return badRequest('unsupported-qop', `qop ${qopRaw} is not supported`);
      if (ncRaw === undefined || !NC.test(ncRaw) || cnonce === undefined || cnonce === '') {
        return badRequest('malformed', 'qop=auth needs nc (8 hex digits) and cnonce');
      }
      qop = 'auth';
      nc = Number.parseInt(ncRaw, 16);
      if (nc === 0) return badRequest('malformed', 'nc must be at least 1');
    } else if (this.#o.requireQop === true) {
      return this.challenge(now, false, 'no-credentials');
    }
    if (!sameUri(uri, request.requestUri)) {
      return badRequest('uri-mismatch', 'digest uri does not match the Request-URI');
    }
    const nonceCheck = this.#o.nonces.check(nonce, this.#o.realm, now);
    if (nonceCheck.kind === 'invalid') return this.challenge(now, false, 'nonce-invalid');
    const opaque = p.get('opaque');
    if (opaque !== undefined && opaque !== this.#opaque) return this.challenge(now, false, 'opaque-mismatch');
    if (request.expectedUsername !== undefined && request.expectedUsername !== username) {
      return { kind: 'forbidden', reason: 'username-mismatch', status: 403 };
    }

    const user = await this.#o.credentials.lookup(username, this.#o.realm);
    if (user === undefined) return { kind: 'forbidden', reason: 'unknown-user', status: 403 };
    const family = hashFamily(algorithm);
    const ha1 = user.ha1[family];
    if (ha1 === undefined) {
      return this.challenge(now, false, 'unsupported-algorithm', new Set(Object.keys(user.ha1) as HashFamily[]));
    }
    const expected = computeResponse({ algorithm, ha1, nonce, method: request.method, uri, qop, nc: ncRaw, cnonce });
    if (!equalHex(expected, response)) {
      // A wrong digest on an expired nonce is not worth a 403: the client re-prompts on a plain challenge.
      if (nonceCheck.kind === 'stale') return this.challenge(now, false, 'nonce-stale');
      return { kind: 'forbidden', reason: 'bad-response', status: 403 };
    }
    if (nonceCheck.kind === 'stale') return this.challenge(now, true, 'nonce-stale');
    if (!(await this.#claimCount(nonceKey(nonce), qop === 'auth' ? nc : 0))) {
      return this.challenge(now, true, 'replay');
    }
    return { kind: 'ok', user, algorithm, nc };
  }

  /** Records nc for the nonce if it is higher than any seen (qop) or the nonce is unused (no qop). */
  async #claimCount(key: string, nc: number): Promise<boolean> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await this.#o.counts.get(key);
      if (entry === undefined) {
        if (await this.#o.counts.create(key, nc)) return true;
        continue;
      }
      if (nc === 0 || entry.nc === 0 || nc <= entry.nc) return false;
      if (await this.#o.counts.update(key, nc, entry.revision)) return true;
    }
    return false;
  }
}

function badRequest(reason: BadRequestReason, detail: string): AuthResult {
  return { kind: 'bad-request', reason, status: 400, detail };
}

function equalHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The digest uri equals the Request-URI; scheme and host compare case-insensitively. */
function sameUri(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  const norm = (u: string): string => {
    const at = u.indexOf('@');
    const colon = u.indexOf(':');
    const scheme = colon < 0 ? '' : u.slice(0, colon).toLowerCase();
    if (at < 0) return `${scheme}${u.slice(colon).toLowerCase()}`;
    const hostEnd = u.slice(at).search(/[;?]/);
    const host = hostEnd < 0 ? u.slice(at) : u.slice(at, at + hostEnd);
    const rest = hostEnd < 0 ? '' : u.slice(at + hostEnd);
    return `${scheme}${u.slice(colon, at)}${host.toLowerCase()}${rest}`;
  };
  return norm(digestUri) === norm(requestUri);
}
