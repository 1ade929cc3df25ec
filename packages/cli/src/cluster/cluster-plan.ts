/**
 * The topology of a local sipnats cluster on loopback, as data: NATS nodes (client, route and
 * monitoring ports, store dirs, config text), transport instances (SIP and HTTP ports, environment)
 * and ua instances. Pure: ports and secrets come in, nothing is started here.
 */
import { join } from 'node:path';
import type { NatsAuth } from './nats-auth.js';
import { SERVICE_START } from './services.js';

export interface NatsNodePlan {
  readonly name: string;
  readonly host: string;
  readonly clientPort: number;
  readonly clusterPort: number;
  readonly monitorPort: number;
  readonly dir: string;
  readonly storeDir: string;
  readonly configPath: string;
  readonly url: string;
  readonly config: string;
}

export type SipTransport = 'udp' | 'tcp';

export interface ServicePlan {
  readonly kind: 'transport' | 'ua';
  readonly instance: string;
  /** Absolute path of the built entry point. */
  readonly main: string;
  /** Node.js options before it (SERVICE_START). */
  readonly nodeArgs: readonly string[];
  readonly httpPort: number;
  /** SIP listeners (transport only): transport → port on `host`. */
  readonly sip: Readonly<Partial<Record<SipTransport, number>>>;
  readonly env: Readonly<Record<string, string>>;
}

export interface ClusterPlan {
  readonly host: string;
  readonly stateDir: string;
  readonly clusterName: string;
  readonly nats: readonly NatsNodePlan[];
  readonly transports: readonly ServicePlan[];
  readonly uas: readonly ServicePlan[];
  readonly natsUrls: readonly string[];
  readonly kvReplicas: number;
}

export interface ClusterPorts {
  readonly nats: readonly { readonly client: number; readonly cluster: number; readonly monitor: number }[];
  readonly transports: readonly { readonly sip: number; readonly http: number }[];
  readonly uas: readonly { readonly http: number }[];
}

export interface PlanInput {
  readonly host: string;
  readonly stateDir: string;
  readonly repoRoot: string;
  readonly ports: ClusterPorts;
  readonly auth: NatsAuth;
  /** SIPNATS_SECRET shared by every transport instance. */
  readonly routingSecret: string;
  /** SIPNATS_AUTH_SECRET shared by every ua instance. */
  readonly authSecret: string;
  /** PATH of the child processes. */
  readonly path: string;
  readonly logLevel: string;
  readonly clusterName?: string;
  /** Listeners of each transport (default udp and tcp, on the same port number). */
  readonly sipTransports?: readonly SipTransport[];
  /** SIP_ADVERTISE of every transport (e.g. the address of a load balancer in front of them). */
  readonly advertise?: string;
  /** KV replicas (default: 3, or the number of NATS nodes when fewer). */
  readonly kvReplicas?: number;
  readonly transportEnv?: Readonly<Record<string, string>>;
  readonly uaEnv?: Readonly<Record<string, string>>;
  /** Prefix of instance ids and server names (default `sn`). */
  readonly namePrefix?: string;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** nats-server configuration of one clustered node (JetStream on, monitoring on, accounts included). */
export function natsNodeConfig(o: {
  name: string;
  host: string;
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
  storeDir: string;
  clusterName: string;
  routes: readonly string[];
  include: string;
}): string {
  const h = hostForUrl(o.host);
  const lines = [
    `server_name: ${o.name}`,
    `listen: ${h}:${o.clientPort}`,
    `http: ${h}:${o.monitorPort}`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(o.storeDir)}`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 2GB`,
    `}`,
  ];
  if (o.routes.length > 0) {
    lines.push(`cluster {`, `  name: ${o.clusterName}`, `  listen: ${h}:${o.clusterPort}`, `  routes: [`, ...o.routes.map((r) => `    ${r}`), `  ]`, `}`);
  }
  return `${lines.join('\n')}\n${o.include}`;
}

export function planCluster(input: PlanInput): ClusterPlan {
  const { host, stateDir, ports, auth } = input;
  const prefix = input.namePrefix ?? 'sn';
  const clusterName = input.clusterName ?? 'sipnats';
  const h = hostForUrl(host);
  const routeUrls = ports.nats.map((p) => `nats-route://${h}:${p.cluster}`);
  const nats = ports.nats.map((p, i): NatsNodePlan => {
    const name = `${prefix}-nats-${i + 1}`;
    const dir = join(stateDir, name);
    const storeDir = join(dir, 'jetstream');
    const configPath = join(dir, 'nats.conf');
    const routes = ports.nats.length > 1 ? routeUrls.filter((_, j) => j !== i) : [];
    return {
      name,
      host,
      clientPort: p.client,
      clusterPort: p.cluster,
      monitorPort: p.monitor,
      dir,
      storeDir,
      configPath,
      url: `nats://${h}:${p.client}`,
      config: natsNodeConfig({ name, host, clientPort: p.client, clusterPort: p.cluster, monitorPort: p.monitor, storeDir, clusterName, routes, include: auth.serverConfig(dir) }),
    };
  });
  const natsUrls = nats.map((n) => n.url);
  const kvReplicas = input.kvReplicas ?? Math.min(3, Math.max(1, nats.length));
  const common = (instance: string, httpPort: number): Record<string, string> => ({
    PATH: input.path,
    NATS_URL: natsUrls.join(','),
    SIPNATS_INSTANCE_ID: instance,
    HTTP_LISTEN: `${h}:${httpPort}`,
    LOG_LEVEL: input.logLevel,
  });
  const sipTransports = input.sipTransports ?? ['udp', 'tcp'];
  const transports = ports.transports.map((p, i): ServicePlan => {
    const instance = `${prefix}-transport-${i + 1}`;
    const sip = Object.fromEntries(sipTransports.map((t) => [t, p.sip])) as Partial<Record<SipTransport, number>>;
    return {
      kind: 'transport',
      instance,
      main: join(input.repoRoot, SERVICE_START.transport.main),
      nodeArgs: SERVICE_START.transport.nodeArgs,
      httpPort: p.http,
      sip,
      env: {
        ...common(instance, p.http),
        ...auth.clientEnv('transport'),
        SIPNATS_SECRET: input.routingSecret,
        SIP_LISTEN: sipTransports.map((t) => `${t}:${h}:${p.sip}`).join(','),
        ...(input.advertise === undefined ? {} : { SIP_ADVERTISE: input.advertise }),
        ...input.transportEnv,
      },
    };
  });
  const uas = ports.uas.map((p, i): ServicePlan => {
    const instance = `${prefix}-ua-${i + 1}`;
    return {
      kind: 'ua',
      instance,
      main: join(input.repoRoot, SERVICE_START.ua.main),
      nodeArgs: SERVICE_START.ua.nodeArgs,
      httpPort: p.http,
      sip: {},
      env: {
        ...common(instance, p.http),
        ...auth.clientEnv('ua'),
        SIPNATS_AUTH_SECRET: input.authSecret,
        SIPNATS_KV_REPLICAS: String(kvReplicas),
        ...input.uaEnv,
      },
    };
  });
  return { host, stateDir, clusterName, nats, transports, uas, natsUrls, kvReplicas };
}
