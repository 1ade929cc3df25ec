/**
 * `sipnats up --cluster`: the local cluster of `../cluster/` (three clustered nats-server nodes
 * with JetStream, KV with three replicas, two transports, two uas, NATS users from deploy/nats),
 * its addresses printed, every child's output prefixed with its name. SIGINT/SIGTERM: services
 * drain and stop first, then NATS. A child that exits on its own stops the rest; exit non-zero.
 */
import { startLocalCluster, describeCluster } from '../cluster/index.js';
import type { LocalCluster } from '../cluster/index.js';
import { EXIT } from '../io.js';
import type { CliIo, ExitCode } from '../io.js';

export interface ClusterUpOptions {
  readonly repoRoot: string;
  readonly path: string;
  readonly logLevel: string;
  readonly stateDir?: string;
  readonly auth?: 'auto' | 'deploy' | 'none';
}

/** Resolves on the first of: a stop signal, or any child of the cluster exiting. */
function firstEnd(cluster: LocalCluster): Promise<{ signal: NodeJS.Signals } | { exited: string; code: number | null }> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve({ signal });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    for (const c of [...cluster.nats.map((n) => n.child), ...cluster.transports.map((s) => s.child), ...cluster.uas.map((s) => s.child)]) {
      void c.exited.then((code) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve({ exited: c.name, code });
      });
    }
  });
}

export async function runClusterUp(o: ClusterUpOptions, io: CliIo): Promise<ExitCode> {
  io.stdout('sipnats up --cluster: starting 3 NATS nodes, 2 transports, 2 ua instances on 127.0.0.1\n');
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({
      repoRoot: o.repoRoot,
      path: o.path,
      nodePath: process.execPath,
      logLevel: o.logLevel,
      detached: true,
      sink: (name, line) => io.stdout(`[${name}] ${line}\n`),
      ...(o.stateDir === undefined ? {} : { stateDir: o.stateDir }),
      ...(o.auth === undefined ? {} : { auth: o.auth }),
    });
  } catch (err) {
    io.stderr(`sipnats up --cluster: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
  io.stdout(`sipnats up --cluster: running; Ctrl-C stops\n${describeCluster(cluster.plan, cluster.auth.mode)}`);
  const end = await firstEnd(cluster);
  if ('signal' in end) {
    io.stdout(`sipnats up --cluster: ${end.signal}: draining services, then stopping NATS\n`);
    await cluster.stop();
    io.stdout('sipnats up --cluster: stopped\n');
    return EXIT.ok;
  }
  io.stderr(`sipnats up --cluster: ${end.exited} exited (code ${String(end.code)}); stopping the rest\n`);
  await cluster.stop();
  return EXIT.failed;
}
