/**
 * Runs SIPp (/usr/bin/sipp) with a scenario from test/sipp/ and collects its exit code and output.
 * SIPp exits 0 when every call succeeded, 1 when some failed, other codes on fatal errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopProcess } from './nats-server.js';

export const SIPP_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));

export interface SippOptions {
  /** Scenario file name in test/sipp/, or a built-in name with `builtin:` (e.g. `builtin:uas`). */
  readonly scenario: string;
  /** Remote host:port (UAC mode); omit for a UAS. */
  readonly remote?: string;
  /** `u1` (UDP), `t1` (TCP), `l1` (TLS). Default u1. */
  readonly transport?: 'u1' | 't1' | 'l1';
  /** Local port (default: SIPp chooses). */
  readonly localPort?: number;
  /** Number of calls (-m). Default 1. */
  readonly calls?: number;
  /** Call rate per second (-r). Default 10. */
  readonly rate?: number;
  /** Extra SIPp arguments. */
  readonly args?: readonly string[];
  /** Kill SIPp after this long. Default 30 s. */
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

export interface SippRun {
  readonly child: ChildProcess;
  readonly done: Promise<SippResult>;
  stop(): Promise<void>;
}

export interface SippResult {
  readonly code: number | null;
  readonly output: string;
}

export function startSipp(o: SippOptions): SippRun {
  const args: string[] = [];
  if (o.scenario.startsWith('builtin:')) args.push('-sn', o.scenario.slice('builtin:'.length));
  else args.push('-sf', SIPP_DIR + o.scenario);
  if (o.remote !== undefined) args.push(o.remote);
  args.push('-i', '127.0.0.1', '-t', o.transport ?? 'u1', '-m', String(o.calls ?? 1), '-r', String(o.rate ?? 10));
  if (o.localPort !== undefined) args.push('-p', String(o.localPort));
  args.push('-nostdin', '-timeout', `${Math.ceil((o.timeoutMs ?? 30_000) / 1000)}s`, '-timeout_error', '-max_recv_loops', '1000');
  args.push(...(o.args ?? []));
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: o.cwd });
  let output = '';
  const keep = (b: Buffer): void => {
    output += b.toString('utf8');
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killer = setTimeout(() => child.kill('SIGKILL'), (o.timeoutMs ?? 30_000) + 5000);
  const done = new Promise<SippResult>((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
    child.once('error', (err) => {
      clearTimeout(killer);
      resolve({ code: -1, output: `${output}\n${err.message}` });
    });
  });
  return {
    child,
    done,
    async stop() {
      await stopProcess(child, 'SIGUSR1', 3000);
    },
  };
}

export function runSipp(o: SippOptions): Promise<SippResult> {
  return startSipp(o).done;
}
