/**
 * Stateless, self-verifying digest nonces.
 *
 * nonce = base64url( timestamp (8 bytes, ms, big-endian) | random (16 bytes)
 *                    | HMAC-SHA256(secret, timestamp | random | realm) (first 16 bytes) )
 *
 * Any ua instance holding the shared secret verifies a nonce without state; the timestamp gives
 * the expiry (RFC 7616 §3.3 "stale"). Replay is handled separately by the nonce-count store.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from '../ports.js';
import { AuthError, AuthErrorCode } from './errors.js';

const TS_BYTES = 8;
const RANDOM_BYTES = 16;
const MAC_BYTES = 16;
const NONCE_BYTES = TS_BYTES + RANDOM_BYTES + MAC_BYTES;
/** base64url length of NONCE_BYTES (40 bytes → 54 characters, no padding). */
const NONCE_CHARS = Math.ceil((NONCE_BYTES * 4) / 3);

export interface NonceOptions {
  /** HMAC key shared by every ua instance; at least 16 bytes. */
  readonly secret: Uint8Array;
  readonly random: RandomSource;
  /** How long a nonce is accepted, ms. */
  readonly lifetimeMs: number;
  /** Tolerated clock skew between instances for nonces "from the future", ms. Default 5000. */
  readonly maxSkewMs?: number;
}

export type NonceCheck =
  | { readonly kind: 'valid'; readonly issuedAt: number }
  | { readonly kind: 'stale'; readonly issuedAt: number }
  | { readonly kind: 'invalid'; readonly reason: 'format' | 'mac' | 'future' };

export class NonceService {
  readonly #secret: Buffer;
  readonly #random: RandomSource;
  readonly #lifetimeMs: number;
  readonly #maxSkewMs: number;

  constructor(options: NonceOptions) {
    if (options.secret.byteLength < 16) {
      throw new AuthError(AuthErrorCode.CONFIG, 'nonce secret must be at least 16 bytes');
    }
    if (!(options.lifetimeMs > 0)) {
      throw new AuthError(AuthErrorCode.CONFIG, 'nonce lifetime must be positive');
    }
    this.#secret = Buffer.from(options.secret);
    this.#random = options.random;
    this.#lifetimeMs = options.lifetimeMs;
    this.#maxSkewMs = options.maxSkewMs ?? 5000;
  }

  get lifetimeMs(): number {
    return this.#lifetimeMs;
  }

  /** A fresh nonce for `realm`, issued at `now`. */
  issue(realm: string, now: number): string {
    const head = Buffer.alloc(TS_BYTES + RANDOM_BYTES);
    head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
    const random = this.#random(RANDOM_BYTES);
    if (random.byteLength !== RANDOM_BYTES) {
      throw new AuthError(AuthErrorCode.CONFIG, 'random source returned the wrong number of bytes');
    }
    head.set(random, TS_BYTES);
    return Buffer.concat([head, this.#mac(head, realm)]).toString('base64url');
  }

  /** Checks authenticity (MAC over realm) and age of a nonce. */
  check(nonce: string, realm: string, now: number): NonceCheck {
    if (nonce.length !== NONCE_CHARS || !/^[A-Za-z0-9_-]+$/.test(nonce)) {
      return { kind: 'invalid', reason: 'format' };
    }
    const bytes = Buffer.from(nonce, 'base64url');
    if (bytes.length !== NONCE_BYTES) return { kind: 'invalid', reason: 'format' };
    const head = bytes.subarray(0, TS_BYTES + RANDOM_BYTES);
    const mac = bytes.subarray(TS_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(mac, this.#mac(head, realm))) return { kind: 'invalid', reason: 'mac' };
    const issuedAt = Number(head.readBigUInt64BE(0));
    if (issuedAt > now + this.#maxSkewMs) return { kind: 'invalid', reason: 'future' };
    if (now - issuedAt > this.#lifetimeMs) return { kind: 'stale', issuedAt };
    return { kind: 'valid', issuedAt };
  }

  #mac(head: Buffer, realm: string): Buffer {
    return createHmac('sha256', this.#secret)
      .update(head)
      .update(realm, 'utf8')
      .digest()
      .subarray(0, MAC_BYTES);
  }
}
