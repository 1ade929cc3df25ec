/**
 * A local nats-server for `sipnats up`: used when nothing answers on the configured NATS URL and
 * that URL points at this machine. Started with JetStream, stopped when `up` stops.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tcpAnswers } from '../cluster/wait.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Host and port of a NATS URL such as `nats://127.0.0.1:4222`, `tls://h:4443` or `h:4222`. */
export function natsHostPort(url: string): HostPort {
  const withScheme = /^[a-z]+:\/\//.test(url) ? url : `nats://${url}`;
  const u = new URL(withScheme);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { host, port: u.port === '' ? 4222 : Number(u.port) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Resolves true when a TCP connection to host:port succeeds within timeoutMs. */
export function answers({ host, port }: HostPort, timeoutMs = 1000): Promise<boolean> {
  return tcpAnswers(host, port, timeoutMs);
}

export interface LocalNats {
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts nats-server with JetStream on host:port, storing in stateDir; resolves once it answers. */
export async function startLocalNats(at: HostPort, stateDir: string, deadlineMs = 10_000): Promise<LocalNats> {
  mkdirSync(stateDir, { recursive: true });
  // Its own process group: Ctrl-C on a terminal reaches the services, which drain through NATS,
  // and `up` stops this server only after they are gone.
  const child = spawn('nats-server', ['-a', at.host, '-p', String(at.port), '-js', '-sd', stateDir], {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await Promise.race([answers(at, 500), spawnError]);
    if (ok) return { process: child, stop };
    if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode}`);
    if (Date.now() > until) {
      await stop();
      throw new Error(`nats-server did not answer on ${at.host}:${at.port} within ${deadlineMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
