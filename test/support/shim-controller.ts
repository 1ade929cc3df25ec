/**
 * The C example controller (libsipnats on libnats, `packages/fs-shim/build/sipnats_controller`) as a
 * test peer: built with `make examples`, started against NATS, its one-line-per-event stdout kept
 * for assertions.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SHIM_DIR = fileURLToPath(new URL('../../packages/fs-shim/', import.meta.url));

export interface ShimController {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/** Builds (make examples) and starts the C controller; `servers` may carry `user:password@`. */
export function startShimController(servers: string, args: readonly string[] = []): ShimController {
  execFileSync('make', ['-s', '-C', SHIM_DIR, 'examples'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const child = spawn(`${SHIM_DIR}build/sipnats_controller`, ['-s', servers, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  const keep = (prefix: string) => (b: Buffer): void => {
    partial += b.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.map((p) => prefix + p));
    if (lines.length > 2000) lines.splice(0, 1000);
    for (const w of waiters) w();
  };
  child.stdout?.on('data', keep(''));
  child.stderr?.on('data', keep('stderr: '));
  return {
    child,
    lines,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = lines.find((l) => pattern.test(l));
          if (hit === undefined) return false;
          waiters.delete(onLine);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const onLine = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(onLine);
          reject(new Error(`controller printed no line matching ${pattern} in ${timeoutMs} ms:\n${lines.join('\n')}`));
        }, timeoutMs);
        if (!check()) waiters.add(onLine);
      });
    },
  };
}
