/**
 * The production clock: `performance.now()` and unref'd Node timers (a pending SIP timer never
 * keeps the process alive on its own; shutdown drains transactions explicitly).
 */
import type { Clock, TimerHandle } from './types.js';

export const systemClock: Clock = Object.freeze({
  now: (): number => performance.now(),
  setTimer: (ms: number, fn: () => void): TimerHandle => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimer: (handle: TimerHandle): void => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
});
