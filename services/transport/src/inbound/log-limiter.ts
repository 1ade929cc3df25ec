/**
 * "Log once per peer and window": remembers which keys were logged in the current window. The
 * map is bounded; when it is full the window is considered spent for new keys (they are counted
 * in `suppressed` and reported when the window rolls over).
 */
export class LogLimiter {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  #windowStart: number;
  #seen = new Set<string>();
  #suppressed = 0;

  constructor(windowMs: number, maxKeys = 10_000, now: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
    this.#now = now;
    this.#windowStart = now();
  }

  /**
   * True when `key` should be logged now. `suppressedBefore` tells how many were skipped in the
   * previous window (to report them once).
   */
  allow(key: string): { log: boolean; suppressedBefore: number } {
    const now = this.#now();
    let suppressedBefore = 0;
    if (now - this.#windowStart >= this.#windowMs) {
      suppressedBefore = this.#suppressed;
      this.#seen = new Set();
      this.#suppressed = 0;
      this.#windowStart = now;
    }
    if (this.#seen.has(key) || this.#seen.size >= this.#maxKeys) {
      this.#suppressed++;
      return { log: false, suppressedBefore };
    }
    this.#seen.add(key);
    return { log: true, suppressedBefore };
  }
}
