/**
 * `sipnats up`: runs the system on this machine. Uses the NATS server on NATS_URL, or starts a local
 * one with JetStream when none answers there and the URL is on loopback; then starts the transport
 * and the ua services, forwards SIGINT/SIGTERM to them (each drains), and stops when they have.
 * A service that exits on its own stops the rest and `up` exits non-zero.
 * `sipnats up --cluster` runs the local cluster instead (`cluster-up.ts`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOG_LEVELS, loadConfig, natsSettings, setting } from '@sipnats/config';
import { EXIT, UsageError } from '../io.js';
import type { CliIo, ExitCode } from '../io.js';
import { answers, isLoopback, natsHostPort, startLocalNats } from './nats-local.js';
import type { LocalNats } from './nats-local.js';
import { runClusterUp } from './cluster-up.js';
import { SERVICE_START, serviceArgs } from '../cluster/services.js';

export const upUsage =
  'usage: sipnats up [--cluster]\n' +
  '  Runs transport + ua on NATS_URL, starting a local nats-server when none answers there.\n' +
  '  --cluster  runs a local cluster on 127.0.0.1 instead: 3 clustered nats-server nodes (JetStream, KV\n' +
  '             with 3 replicas), 2 transports, 2 ua instances, NATS users from deploy/nats; free ports,\n' +
  '             state in a temporary directory (or SIPNATS_CLUSTER_STATE_DIR).\n';

export const upSettings = {
  nats: { servers: natsSettings.servers },
  stateDir: setting.string('SIPNATS_STATE_DIR', {
    doc: 'Directory for the local nats-server that `sipnats up` starts (JetStream storage)',
    default: () => join(tmpdir(), 'sipnats', 'nats'),
  }),
  clusterStateDir: setting.string('SIPNATS_CLUSTER_STATE_DIR', {
    doc: 'Directory for the nats-server stores of `sipnats up --cluster` (default: a temporary directory, removed on exit)',
    optional: true,
  }),
  path: setting.string('PATH', { doc: 'Search path of the processes `sipnats up --cluster` starts (nats-server)', default: '/usr/local/bin:/usr/bin:/bin' }),
  logLevel: setting.oneOf('LOG_LEVEL', LOG_LEVELS, { doc: 'Log level of the services `sipnats up --cluster` starts', default: 'info' }),
} as const;

/** The services `up` runs, in start order. */
export const SERVICES = [
  { name: 'transport', ...SERVICE_START.transport },
  { name: 'ua', ...SERVICE_START.ua },
] as const;

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export async function runUp(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const unexpected = args.find((a) => a !== '--cluster');
  if (unexpected !== undefined) throw new UsageError(`unexpected argument ${unexpected}`);
  const config = loadConfig(upSettings);
  if (args.includes('--cluster')) {
    return runClusterUp(
      { repoRoot, path: config.path, logLevel: config.logLevel, ...(config.clusterStateDir === undefined ? {} : { stateDir: config.clusterStateDir }) },
      io,
    );
  }
  const missing = SERVICES.filter((s) => !existsSync(join(repoRoot, s.main)));
  if (missing.length > 0) {
    io.stderr(`sipnats up: not built: ${missing.map((s) => s.main).join(', ')} (run ./sipnats up from the repository root)\n`);
    return EXIT.failed;
  }

  const url = config.nats.servers[0] ?? 'nats://127.0.0.1:4222';
  const at = natsHostPort(url);
  let localNats: LocalNats | undefined;
  if (await answers(at)) {
    io.stdout(`sipnats up: using NATS at ${url}\n`);
  } else if (isLoopback(at.host)) {
    io.stdout(`sipnats up: no NATS answers at ${url}; starting nats-server with JetStream (state in ${config.stateDir})\n`);
    localNats = await startLocalNats(at, config.stateDir);
  } else {
    io.stderr(`sipnats up: no NATS answers at ${url}, and it is not on this machine\n`);
    return EXIT.failed;
  }

  const children = SERVICES.map((s) => ({ name: s.name, child: spawn(process.execPath, serviceArgs(s, repoRoot), { stdio: 'inherit' }) }));
  io.stdout(`sipnats up: started ${children.map((c) => `${c.name} (pid ${c.child.pid ?? '?'})`).join(', ')}; Ctrl-C stops\n`);

  let stopping = false;
  const stopAll = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => stopAll(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results = await Promise.all(children.map(({ name, child }) => waitExit(name, child, () => stopping, () => stopAll('SIGTERM'), io)));
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await localNats?.stop();
  return results.every(Boolean) ? EXIT.ok : EXIT.failed;
}

/** Resolves true for a clean exit during shutdown; an exit on its own stops the others. */
function waitExit(name: string, child: ChildProcess, stopping: () => boolean, stopOthers: () => void, io: CliIo): Promise<boolean> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      const clean = stopping() && (code === 0 || signal === 'SIGTERM' || signal === 'SIGINT');
      if (!clean) {
        io.stderr(`sipnats up: ${name} exited (${signal ?? `code ${code}`}); stopping the rest\n`);
        stopOthers();
      }
      resolve(clean);
    });
  });
}
