/**
 * One child process of a local cluster (a nats-server or a service): spawned with an explicit
 * environment, its output kept in a bounded ring of lines (and passed to a sink when given), its
 * exit awaited, its memory read from /proc. It can be stopped, killed and started again.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Receives every output line of a child, e.g. to print it prefixed with the child's name. */
export type LineSink = (name: string, line: string) => void;

export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Own process group: a terminal's Ctrl-C reaches only the parent, which stops children in order. */
  readonly detached?: boolean;
  readonly sink?: LineSink;
  /** Lines of output kept (default 2000). */
  readonly keepLines?: number;
}

export class ChildStartError extends Error {
  readonly code = 'SIPNATS_ERR_CHILD_START';
}

export class ManagedChild {
  readonly logs: string[] = [];
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  #partial = '';

  constructor(readonly spec: ChildSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Resolves with the exit code (null after a signal) of the current run. */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  /** Spawns the process; rejects when it cannot be spawned (e.g. the binary is missing). */
  spawn(): Promise<void> {
    if (this.running) return Promise.resolve();
    const child = spawn(this.spec.command, [...this.spec.args], {
      env: { ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.spec.detached ?? false,
      ...(this.spec.cwd === undefined ? {} : { cwd: this.spec.cwd }),
    });
    this.#child = child;
    child.stdout?.on('data', (b: Buffer) => this.#keep(b));
    child.stderr?.on('data', (b: Buffer) => this.#keep(b));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(-1));
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(new ChildStartError(`${this.name}: cannot start ${this.spec.command}: ${err.message}`, { cause: err })));
    });
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `killAfterMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 15_000): Promise<number | null> {
    const child = this.#child;
    if (child === undefined || !this.running) return child?.exitCode ?? null;
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.kill(signal);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal without waiting (e.g. SIGINT forwarded from a terminal). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child?.kill(signal);
  }

  /** Resident set size in bytes from /proc/<pid>/status, or undefined when not running. */
  rssBytes(): number | undefined {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
    } catch {
      return undefined;
    }
  }

  #keep(chunk: Buffer): void {
    const text = this.#partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.#partial = (lines.pop() ?? '').slice(-8192);
    const keep = this.spec.keepLines ?? 2000;
    for (const line of lines) {
      if (line === '') continue;
      this.logs.push(line);
      this.spec.sink?.(this.name, line);
    }
    if (this.logs.length > keep) this.logs.splice(0, this.logs.length - keep);
  }
}
