/**
 * A sipnats cluster on one machine: N clustered nats-server nodes with JetStream (KV replicas
 * across them), transport instances sharing one routing secret, ua instances sharing one nonce
 * secret, NATS users and permissions from deploy/nats when available. Used by `sipnats up
 * --cluster` and by the fault tests, so both run the same topology.
 *
 * Start order: every NATS node (routes need their peers), JetStream healthy on all, the first ua
 * (creates the KV buckets), then the other uas and the transports. Stop order: services (SIGTERM,
 * each drains), then NATS.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LineSink } from './child-process.js';
import { planCluster } from './cluster-plan.js';
import type { ClusterPlan, ClusterPorts, SipTransport } from './cluster-plan.js';
import { PortAllocator } from './free-port.js';
import { natsAuthFromDeploy, noNatsAuth } from './nats-auth.js';
import type { NatsAuth, NatsUser } from './nats-auth.js';
import { NatsNode } from './nats-node.js';
import { ServiceNode } from './service-node.js';
import { SERVICE_START } from './services.js';
import { waitUntil } from './wait.js';

export interface LocalClusterOptions {
  /** Repository root (services are run from services/<name>/dist/main.js under it). */
  readonly repoRoot: string;
  /** PATH of the children (nats-server is looked up on it). */
  readonly path: string;
  /** Node.js binary for the services (e.g. process.execPath). */
  readonly nodePath: string;
  readonly logLevel?: string;
  /** State directory; default a new temporary directory, removed on stop. */
  readonly stateDir?: string;
  readonly host?: string;
  readonly natsNodes?: number;
  readonly transports?: number;
  readonly uas?: number;
  readonly kvReplicas?: number;
  /** `deploy` requires deploy/nats/accounts.conf; `auto` (default) uses it when present; `none` runs without auth. */
  readonly auth?: 'auto' | 'deploy' | 'none';
  readonly sipTransports?: readonly SipTransport[];
  readonly advertise?: string;
  readonly transportEnv?: Readonly<Record<string, string>>;
  readonly uaEnv?: Readonly<Record<string, string>>;
  /** Children in their own process groups (for a terminal's Ctrl-C to reach only the parent). */
  readonly detached?: boolean;
  /** Every output line of every child. */
  readonly sink?: LineSink;
  readonly namePrefix?: string;
}

export interface LocalCluster {
  readonly plan: ClusterPlan;
  readonly auth: NatsAuth;
  readonly nats: readonly NatsNode[];
  readonly transports: readonly ServiceNode[];
  readonly uas: readonly ServiceNode[];
  /** nats.js connect options for a client of this cluster connecting as `user`. */
  clientOptions(user: NatsUser): { servers: string[]; user?: string; pass?: string };
  /** Resolves when every running NATS node reports JetStream healthy. */
  waitNatsHealthy(timeoutMs?: number): Promise<void>;
  /** Services (SIGTERM, in parallel), then NATS; removes a temporary state directory. Idempotent. */
  stop(): Promise<void>;
}

export class ClusterStartError extends Error {
  readonly code = 'SIPNATS_ERR_CLUSTER_START';
}

function resolveAuth(o: LocalClusterOptions): NatsAuth {
  if (o.auth === 'none') return noNatsAuth();
  const auth = natsAuthFromDeploy(o.repoRoot);
  if (auth !== undefined) return auth;
  if (o.auth === 'deploy') throw new ClusterStartError(`deploy/nats/accounts.conf not found under ${o.repoRoot}`);
  return noNatsAuth();
}

async function allocatePorts(o: LocalClusterOptions, host: string): Promise<ClusterPorts> {
  const ports = new PortAllocator(host);
  const nats = [];
  for (let i = 0; i < (o.natsNodes ?? 3); i++) nats.push({ client: await ports.next(), cluster: await ports.next(), monitor: await ports.next() });
  const transports = [];
  for (let i = 0; i < (o.transports ?? 2); i++) transports.push({ sip: await ports.next({ udp: true }), http: await ports.next() });
  const uas = [];
  for (let i = 0; i < (o.uas ?? 2); i++) uas.push({ http: await ports.next() });
  return { nats, transports, uas };
}

export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  for (const main of Object.values(SERVICE_START).map((s) => join(o.repoRoot, s.main))) {
    if (!existsSync(main)) throw new ClusterStartError(`not built: ${main}`);
  }
  const host = o.host ?? '127.0.0.1';
  const ownStateDir = o.stateDir === undefined;
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'sipnats-cluster-'));
  mkdirSync(stateDir, { recursive: true });
  const auth = resolveAuth(o);
  const plan = planCluster({
    host,
    stateDir,
    repoRoot: o.repoRoot,
    ports: await allocatePorts(o, host),
    auth,
    routingSecret: randomBytes(24).toString('base64url'),
    authSecret: randomBytes(24).toString('base64url'),
    path: o.path,
    logLevel: o.logLevel ?? 'info',
    ...(o.kvReplicas === undefined ? {} : { kvReplicas: o.kvReplicas }),
    ...(o.sipTransports === undefined ? {} : { sipTransports: o.sipTransports }),
    ...(o.advertise === undefined ? {} : { advertise: o.advertise }),
    ...(o.transportEnv === undefined ? {} : { transportEnv: o.transportEnv }),
    ...(o.uaEnv === undefined ? {} : { uaEnv: o.uaEnv }),
    ...(o.namePrefix === undefined ? {} : { namePrefix: o.namePrefix }),
  });
  const common = { ...(o.detached === undefined ? {} : { detached: o.detached }), ...(o.sink === undefined ? {} : { sink: o.sink }) };
  const nats = plan.nats.map((p) => new NatsNode(p, { env: { PATH: o.path, ...auth.serverEnv }, ...common }));
  const transports = plan.transports.map((p) => new ServiceNode(p, { nodePath: o.nodePath, ...common }));
  const uas = plan.uas.map((p) => new ServiceNode(p, { nodePath: o.nodePath, ...common }));

  const waitNatsHealthy = (timeoutMs = 30_000): Promise<void> =>
    waitUntil('NATS JetStream healthy', async () => (await Promise.all(nats.filter((n) => n.running).map((n) => n.healthy()))).every(Boolean), { timeoutMs, everyMs: 200 });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all([...transports, ...uas].map((s) => s.stop('SIGTERM')));
      await Promise.all(nats.map((n) => n.stop('SIGTERM')));
      if (ownStateDir) rmSync(stateDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const cluster: LocalCluster = {
    plan,
    auth,
    nats,
    transports,
    uas,
    clientOptions: (user) => ({ servers: [...plan.natsUrls], ...auth.clientOptions(user) }),
    waitNatsHealthy,
    stop,
  };
  try {
    await Promise.all(nats.map((n) => n.start()));
    await waitNatsHealthy();
    const [first, ...rest] = uas;
    await first?.start();
    await Promise.all([...rest, ...transports].map((s) => s.start()));
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
}
