/**
 * Timer values (RFC 3261 §17, table 4 of appendix A) and a small set of named timers bound to
 * an injected clock, so that every state machine can (re)arm and cancel its timers by name.
 */
import { TxnError, TxnErrorCode } from './errors.js';
import type { Clock, TimerHandle, TimerValues } from './types.js';

export const DEFAULT_TIMERS: TimerValues = Object.freeze({ T1: 500, T2: 4000, T4: 5000, D: 32000, C: 180000 });

/** Fills defaults and rejects values that would make the machines misbehave. */
export function resolveTimers(overrides: Partial<TimerValues> | undefined): TimerValues {
  const values: TimerValues = { ...DEFAULT_TIMERS, ...overrides };
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new TxnError(TxnErrorCode.CONFIG, `timer ${name} must be a positive number of milliseconds, got ${String(value)}`);
    }
  }
  if (values.T2 < values.T1) {
    throw new TxnError(TxnErrorCode.CONFIG, `T2 (${values.T2} ms) must not be smaller than T1 (${values.T1} ms)`);
  }
  return Object.freeze(values);
}

/** Named one-shot timers of one transaction. Arming a name again replaces the earlier timer. */
export class TimerSet {
  readonly #clock: Clock;
  readonly #active = new Map<string, TimerHandle>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  arm(name: string, ms: number, fn: () => void): void {
    this.cancel(name);
    const handle = this.#clock.setTimer(ms, () => {
      // Only fire if this exact arming is still current.
      if (this.#active.get(name) !== handle) return;
      this.#active.delete(name);
      fn();
    });
    this.#active.set(name, handle);
  }

  cancel(name: string): void {
    const handle = this.#active.get(name);
    if (handle === undefined) return;
    this.#active.delete(name);
    this.#clock.clearTimer(handle);
  }

  has(name: string): boolean {
    return this.#active.has(name);
  }

  cancelAll(): void {
    for (const handle of this.#active.values()) this.#clock.clearTimer(handle);
    this.#active.clear();
  }
}
