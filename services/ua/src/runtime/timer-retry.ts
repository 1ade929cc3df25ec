/**
 * Back-off for call timers whose local firing failed (runtime/call-timers.ts): 200 ms, 400 ms,
 * 800 ms, then every second, at most MAX_ATTEMPTS times per call (about half a minute: longer
 * than a NATS failover, shorter than any call timer that would matter after it). Bounded: at most
 * `maxCalls` calls are remembered; beyond it a failed timer is left to the sweep alone.
 */
export const FIRST_RETRY_MS = 200;
export const MAX_RETRY_MS = 1000;
export const MAX_ATTEMPTS = 30;

export class LocalRetries {
  readonly #failures = new Map<string, number>();

  get size(): number {
    return this.#failures.size;
  }

  /** Records a failure; the wait before the next try, or undefined when giving up on this call. */
  failed(call: string, maxCalls: number): number | undefined {
    const n = (this.#failures.get(call) ?? 0) + 1;
    if (n > MAX_ATTEMPTS || (n === 1 && this.#failures.size >= maxCalls)) {
      this.#failures.delete(call);
      return undefined;
    }
    this.#failures.set(call, n);
    return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (n - 1));
  }

  succeeded(call: string): void {
    this.#failures.delete(call);
  }

  clear(): void {
    this.#failures.clear();
  }
}
