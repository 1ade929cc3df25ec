/**
 * Retrying KV operations through a NATS failover. While a NATS node dies or restarts, JetStream
 * answers for a few seconds with errors that go away on their own: a client that reconnected to a
 * node whose JetStream is not up yet ("jetstream is not enabled"), no responders on `$JS.API` or
 * `$KV.*` while a stream elects a leader, a request lost with the old connection (timeout), or a
 * connection that is reconnecting. Such an error is retried with a growing back-off until the
 * operation's deadline (SIPNATS_KV_TIMEOUT); any other error fails at once.
 *
 * An attempt that gets no answer is abandoned after its own, shorter timeout and sent again: the
 * request may have gone down with the node. So a write may land twice or land although its
 * attempt timed out; KvRecords resolves that ambiguity for create/update (see there). The attempt
 * enforces its timeout itself: CoreKv requests carry it as their deadline, checked by the request
 * mux's one sweep timer, so retrying costs no timer per attempt; `settleWithin` bounds work that
 * cannot (a nats.js key listing).
 */

/** Error names (nats.js v3) of failures that go away once the cluster has settled. */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'JetStreamNotEnabled',
  'NoRespondersError',
  'TimeoutError',
  'RequestError',
  'ConnectionError',
  'AttemptTimeoutError',
  // @sipnats/bus RequestMux: no responders, no reply in time, connection lost or closed.
  'NatsRequestError',
]);

/** Words of error messages (any library version) that mean the same. */
const TRANSIENT_TEXT = /jetstream is not enabled|jetstream not enabled|no responders|timeout|timed out|disconnect|reconnect|temporarily unavailable|cluster not available|no suitable peers|leader|stream is offline/i;

/** JetStream API statuses of a cluster that is electing or catching up (503), or busy (408). */
const TRANSIENT_STATUS: ReadonlySet<number> = new Set([408, 503]);

/** True for an error (or one in its `cause` chain) that a later attempt may not see. */
export function isTransientKvError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (TRANSIENT_NAMES.has(e.name)) return true;
    const status = (e as { status?: unknown }).status;
    if (typeof status === 'number' && TRANSIENT_STATUS.has(status)) return true;
    const code = (e as { code?: unknown }).code;
    if (e.name === 'JetStreamStatusError' && typeof code === 'number' && TRANSIENT_STATUS.has(code)) return true;
    if (TRANSIENT_TEXT.test(e.message)) return true;
    e = e.cause;
  }
  return false;
}

/** An attempt that got no answer within its own timeout (retried while time is left). */
export class AttemptTimeoutError extends Error {
  readonly code = 'UA_KV_ATTEMPT_TIMEOUT';
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

export interface RetryOptions {
  /** Milliseconds from the first attempt after which no attempt is started. */
  readonly budgetMs: number;
  /** Back-off before the second attempt; doubles up to `maxDelayMs`. Default 50. */
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  /**
   * Longest wait for one attempt (abandoned and retried after it); default budget/3, at least 200 ms.
   * Handed to the work, which must settle within it.
   */
  readonly attemptTimeoutMs?: number;
  readonly isTransient?: (err: unknown) => boolean;
  /** Injected for tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each retry, with the error that caused it. */
  readonly onRetry?: (attempt: number, err: unknown) => void;
}

const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
  });

/**
 * `p`, or AttemptTimeoutError after `ms`: for an attempt whose work cannot be given a deadline.
 * One timer per call: not for hot paths.
 */
export function settleWithin<R>(p: Promise<R>, ms: number): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimeoutError(ms)), ms);
    timer.unref();
  });
  // An abandoned attempt may still fail later: that rejection is expected and handled here.
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `work(attempt, timeoutMs)` (attempt 1, 2, ...) until it succeeds, fails with a non-transient
 * error, or the budget is spent; then the last error is thrown. `timeoutMs` is the attempt's own
 * timeout (never past the budget): the work must settle by then, with a transient error (such as
 * the mux's NatsRequestError 'timeout') when it got no answer.
 */
export async function retryTransient<R>(work: (attempt: number, timeoutMs: number) => Promise<R>, o: RetryOptions): Promise<R> {
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? realSleep;
  const transient = o.isTransient ?? isTransientKvError;
  const maxDelay = o.maxDelayMs ?? 400;
  const attemptTimeout = Math.max(200, o.attemptTimeoutMs ?? Math.floor(o.budgetMs / 3));
  const deadline = now() + o.budgetMs;
  let delay = o.firstDelayMs ?? 50;
  for (let attempt = 1; ; attempt++) {
    try {
      const left = deadline - now();
      return await work(attempt, Math.max(1, Math.min(attemptTimeout, left)));
    } catch (err) {
      if (!transient(err)) throw err;
      const left = deadline - now();
      if (left <= delay) throw err;
      o.onRetry?.(attempt, err);
      await sleep(delay);
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}
