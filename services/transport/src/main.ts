#!/usr/bin/env -S node --single-threaded-gc
/**
 * sipnats-transport: reads the configuration, makes the logger, metrics and the NATS connection,
 * builds the app, serves /healthz /readyz /metrics, registers the NATS micro service, and drains
 * on SIGTERM/SIGINT (exit 0).
 */
import { randomBytes } from 'node:crypto';
import { connectBus, registerService, type BusTlsOptions, type ServiceHandle } from '@sipnats/bus';
import { loadConfigOrExit, parseHostPort } from '@sipnats/config';
import { createLogger } from '@sipnats/logging';
import { closeOps, createOpsServer, listenOps } from '@sipnats/ops';
import { build } from './app.js';
import { transportChecks, transportSettings } from './config.js';
import { createMetrics } from './ops/metrics.js';
import { registerUdpKernelMetrics } from './ops/udp-kernel-stats.js';
import { BusPort } from './publish/bus-port.js';

const VERSION = '0.1.0';

function natsTls(n: { tls: boolean; tlsCa?: string | undefined; tlsCert?: string | undefined; tlsKey?: string | undefined }): BusTlsOptions | boolean {
  const o: BusTlsOptions = {};
  if (n.tlsCa !== undefined) o.ca = n.tlsCa;
  if (n.tlsCert !== undefined) o.cert = n.tlsCert;
  if (n.tlsKey !== undefined) o.key = n.tlsKey;
  return Object.keys(o).length > 0 ? o : n.tls;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(transportSettings, { name: 'sipnats-transport', checks: [transportChecks] });
  const log = createLogger({ name: 'transport', level: config.logLevel, instance: config.instanceId });
  let secret: string | Buffer;
  if (config.secret !== undefined) {
    secret = config.secret;
  } else {
    secret = randomBytes(32);
    log.warn('SIPNATS_SECRET is not set: using a random per-process routing key (tokens of other instances will be refused)');
  }
  const metrics = createMetrics();
  const port = new BusPort(log);
  const app = build({ config, log, nats: port, metrics, secret });
  await app.start();
  const udpPorts = new Set(app.listeners.listeners.filter((l) => l.info.transport === 'udp').map((l) => l.info.local.port));
  registerUdpKernelMetrics(metrics.registry, () => udpPorts);

  const ops = createOpsServer({ ready: () => app.readiness(), registry: metrics.registry });
  const http = parseHostPort(config.httpListen);
  const httpPort = await listenOps(ops, http.host, http.port);
  log.info({ http: `${http.host}:${httpPort}` }, 'operations endpoint listening');

  let service: ServiceHandle | undefined;
  let stopping = false;
  const connecting = connectBus({
    servers: config.nats.servers,
    name: `transport:${config.instanceId}`,
    user: config.nats.user,
    pass: config.nats.password,
    token: config.nats.token,
    credsFile: config.nats.creds,
    tls: natsTls(config.nats),
    log,
    waitOnFirstConnect: true,
  }).then(async (bus) => {
    port.attach(bus);
    if (stopping) return;
    service = await registerService(bus, {
      name: 'sipnats-transport',
      version: VERSION,
      description: 'sipnats SIP edge: listeners, transaction layer, NATS publishing',
      metadata: { instance: config.instanceId },
      statsHandler: async () => ({
        openTransactions: app.openTransactions(),
        queue: app.context.publisher.size,
        connections: Object.fromEntries(app.listeners.connectionsByTransport()),
      }),
    });
  });
  connecting.catch((err: unknown) => log.error({ err }, 'NATS connection failed'));

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining');
    try {
      await app.drain(config.drainTimeout);
      await service?.stop().catch(() => undefined);
      await port.bus?.drain().catch((err: unknown) => log.warn({ err }, 'NATS drain failed'));
      await app.close();
      await closeOps(ops);
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`sipnats-transport: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
