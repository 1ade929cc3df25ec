/** Polling helpers of the local cluster: a TCP port that answers, an HTTP path that returns 200. */
import { connect } from 'node:net';

export class WaitTimeoutError extends Error {
  readonly code = 'SIPNATS_ERR_WAIT_TIMEOUT';
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function tcpAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** GET `url`; status and body, or undefined when nothing answers within timeoutMs. */
export async function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

/**
 * Calls `check` every `everyMs` until it returns true; throws WaitTimeoutError (with `what`) after
 * `timeoutMs`, or the error `abort` returns (e.g. the process exited).
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, o: { timeoutMs: number; everyMs?: number; abort?: () => Error | undefined }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const aborted = o.abort?.();
    if (aborted !== undefined) throw aborted;
    if (await check()) return;
    if (Date.now() > deadline) throw new WaitTimeoutError(`${what}: not within ${o.timeoutMs} ms`);
    await sleep(o.everyMs ?? 100);
  }
}
