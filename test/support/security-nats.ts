/**
 * nats-server processes configured like a deployment, for the security suites: one with the
 * accounts, users and subject permissions of deploy/nats/accounts.conf (passwords from the
 * environment, as in Kubernetes), one with TLS and verified client certificates. Plus a NATS
 * client that records the permission violations the server reports on its connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { stopProcess, waitForTcp } from './nats-server.js';
import { freePort } from './ports.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The permission file the deploy engineer maintains; the suites test exactly this file. */
export const ACCOUNTS_CONF = join(REPO, 'deploy/nats/accounts.conf');

export const NATS_USERS = ['transport', 'ua', 'fsshim', 'tools', 'sys'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

export interface ConfiguredNats {
  readonly port: number;
  /** `nats://127.0.0.1:<port>` (`tls://` for the TLS server), without credentials. */
  readonly url: string;
  /** Everything the server wrote (stderr and stdout), for leak checks and failure output. */
  readonly logs: string[];
  dispose(): Promise<void>;
}

/**
 * Random passwords for every user of accounts.conf. nats-server parses a variable's value as
 * configuration, so a password starts with a letter and holds only letters and digits.
 */
export function randomPasswords(): Record<NatsUser, string> {
  return Object.fromEntries(NATS_USERS.map((u) => [u, `p${randomBytes(18).toString('hex')}`])) as Record<NatsUser, string>;
}

async function startWithConfig(name: string, body: (dir: string, port: number) => string, env: NodeJS.ProcessEnv): Promise<ConfiguredNats> {
  const dir = mkdtempSync(join(tmpdir(), `sipnats-${name}-`));
  const port = await freePort();
  const conf = join(dir, 'server.conf');
  writeFileSync(conf, body(dir, port));
  const logs: string[] = [];
  let stopping = false;
  const child: ChildProcess = spawn('nats-server', ['-c', conf], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer): void => {
    for (const line of b.toString('utf8').split('\n')) if (line !== '') logs.push(line);
    if (logs.length > 5000) logs.splice(0, logs.length - 5000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const dispose = async (): Promise<void> => {
    stopping = true;
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitForTcp('127.0.0.1', port),
      exited.then((code) => {
        if (!stopping) throw new Error(`nats-server exited (${String(code)}):\n${logs.join('\n')}`);
      }),
    ]);
  } catch (e) {
    await dispose();
    throw e;
  }
  return { port, url: `nats://127.0.0.1:${port}`, logs, dispose };
}

/** A nats-server whose accounts, users and permissions are deploy/nats/accounts.conf. */
export function startPermissionedNats(passwords: Readonly<Record<NatsUser, string>>): Promise<ConfiguredNats> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  for (const u of NATS_USERS) env[`NATS_${u.toUpperCase()}_PASSWORD`] = passwords[u];
  return startWithConfig(
    'nats-perm',
    // nats-server 2.9 resolves an include relative to the including file.
    (dir, port) => `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(dir, 'js')}" }\ninclude "${relative(dir, ACCOUNTS_CONF)}"\n`,
    env,
  );
}

/** A nats-server that speaks TLS only and requires a client certificate signed by `ca`. */
export async function startTlsNats(o: { cert: string; key: string; ca: string }): Promise<ConfiguredNats> {
  const s = await startWithConfig(
    'nats-tls',
    (dir, port) =>
      [
        `listen: 127.0.0.1:${port}`,
        `jetstream { store_dir: "${join(dir, 'js')}" }`,
        `tls { cert_file: "${o.cert}", key_file: "${o.key}", ca_file: "${o.ca}", verify: true, timeout: 2 }`,
        '',
      ].join('\n'),
    { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
  );
  return { ...s, url: `tls://127.0.0.1:${s.port}` };
}

export interface WatchedConnection {
  readonly nc: NatsConnection;
  /** Refusals the server reported, as `publish <subject>` or `subscription <subject>`. */
  readonly denied: string[];
  /** Flushes (so every -ERR for earlier operations has arrived) and returns `denied`. */
  settle(): Promise<string[]>;
}

/** Connects and records every permissions violation reported on the connection's status. */
export async function connectWatched(opts: ConnectionOptions): Promise<WatchedConnection> {
  const nc = await connect({ reconnect: false, ...opts });
  const denied: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type !== 'error') continue;
      const e = s.error as { name?: string; operation?: string; subject?: string };
      if (e.name === 'PermissionViolationError') denied.push(`${e.operation ?? '?'} ${e.subject ?? '?'}`);
    }
  })();
  return {
    nc,
    denied,
    async settle() {
      await nc.flush();
      await new Promise((r) => setImmediate(r));
      return denied;
    },
  };
}

/** Log lines of a process that report a NATS permission refusal. */
export function permissionErrors(lines: readonly string[]): string[] {
  return lines.filter((l) => /permissions? violation/i.test(l));
}
