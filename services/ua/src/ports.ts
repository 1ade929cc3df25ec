/**
 * Injected capabilities of the pure protocol core: time and randomness. The core never reads a
 * clock or a random generator itself, so tests drive it deterministically.
 */

/** Milliseconds since the Unix epoch. */
export type Clock = () => number;

/** Returns `size` random bytes (crypto quality in production: `crypto.randomBytes`). */
export type RandomSource = (size: number) => Uint8Array;

/**
 * A RandomSource that draws from `fill` (crypto.randomFillSync in production) `poolBytes` at a
 * time instead of once per token: one draw serves a few hundred tags and branches. Every byte is
 * handed out once (each result is a copy; the pool is refilled only after it was used up).
 */
export function pooledRandom(fill: (buf: Uint8Array) => void, poolBytes = 4096): RandomSource {
  const pool = new Uint8Array(poolBytes);
  let at = poolBytes;
  return (size) => {
    if (size > poolBytes) {
      const out = new Uint8Array(size);
      fill(out);
      return out;
    }
    if (at + size > poolBytes) {
      fill(pool);
      at = 0;
    }
    const out = pool.slice(at, at + size);
    at += size;
    return out;
  };
}

/** Lower-case hex of random bytes. */
export function randomHex(random: RandomSource, bytes: number): string {
  return Buffer.from(random(bytes)).toString('hex');
}

/** A random token for tags and branches: base36-safe hex, `bytes * 2` characters. */
export function randomToken(random: RandomSource, bytes = 8): string {
  return randomHex(random, bytes);
}
