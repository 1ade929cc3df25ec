/**
 * Injected capabilities of the pure protocol core: time and randomness. The core never reads a
 * clock or a random generator itself, so tests drive it deterministically.
 */

/** Milliseconds since the Unix epoch. */
export type Clock = () => number;

/** Returns `size` random bytes (crypto quality in production: `crypto.randomBytes`). */
export type RandomSource = (size: number) => Uint8Array;

/** Lower-case hex of random bytes. */
export function randomHex(random: RandomSource, bytes: number): string {
  return Buffer.from(random(bytes)).toString('hex');
}

/** A random token for tags and branches: base36-safe hex, `bytes * 2` characters. */
export function randomToken(random: RandomSource, bytes = 8): string {
  return randomHex(random, bytes);
}
