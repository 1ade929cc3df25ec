#!/usr/bin/env node
/**
 * sipnats-ua: reads the configuration, makes the logger, the NATS connection, the KV buckets and
 * the metrics, calls build(), registers the NATS micro service, serves /healthz /readyz /metrics,
 * and drains on SIGTERM/SIGINT (stop taking requests, finish in-flight work, drain NATS, exit 0).
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { connectBus, HeldPublisher, openCoreKv, registerService, RequestMux } from '@sipnats/bus';
import { loadConfigOrExit, parseHostPort } from '@sipnats/config';
import { createLogger } from '@sipnats/logging';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { build } from './app.js';
import type { CredentialStore, UserCredentials } from './auth/credential-store.js';
import { loadCredentialFile } from './auth/credential-store.js';
import { uaChecks, uaSettings } from './config.js';
import type { BindingSet } from './registrar/binding.js';
import { createOpsServer, listenOps } from '@sipnats/ops';
import { createUaMetrics } from './ops/metrics.js';
import { NodeDnsPort } from './resolver/node-dns.js';
import { loadTrunkFile } from './outbound-reg/trunk-file.js';
import { loadRouteFile } from './handlers/routes.js';
import { pooledRandom } from './ports.js';
import { natsMessaging } from './runtime/messaging.js';
import { isCallsValue, KvCallStore, type CallsValue } from './store/call-store.js';
import { KvBindingStore } from './store/kv-binding-store.js';
import { flowIndexTtlMs, flowReindexAfterMs, KvFlowIndexStore } from './store/kv-flow-index.js';
import type { FlowAors } from './registrar/flow-index.js';
import { ChainedCredentialStore, isUserCredentials, KvCredentialStore } from './store/kv-credential-store.js';
import { isNonceCountValue, KvNonceCountStore, type NonceCountValue } from './store/kv-nonce-count-store.js';
import { KvRecords } from './store/kv-records.js';
import { isUacEntry, KvUacStore, type UacEntry } from './store/uac-store.js';
import { isLease, KvLeaseStore, type Lease } from './store/lease-store.js';

const VERSION = '0.1.0';

async function main(): Promise<void> {
  const config = loadConfigOrExit(uaSettings, { name: 'sipnats-ua', checks: [uaChecks] });
  const log = createLogger({ level: config.logLevel, name: 'sipnats-ua', instance: config.instanceId });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createUaMetrics(registry);

  if (config.authSecret === undefined) log.warn('SIPNATS_AUTH_SECRET not set: random nonce key, digest nonces work on this instance only');
  const nonceSecret = config.authSecret === undefined ? randomBytes(32) : Buffer.from(config.authSecret, 'utf8');

  const bus = await connectBus({
    servers: config.nats.servers,
    name: `ua:${config.instanceId}`,
    user: config.nats.user,
    pass: config.nats.password,
    token: config.nats.token,
    credsFile: config.nats.creds,
    tls: config.nats.tls || config.nats.tlsCa !== undefined || config.nats.tlsCert !== undefined ? { ...(config.nats.tlsCa === undefined ? {} : { ca: config.nats.tlsCa }), ...(config.nats.tlsCert === undefined ? {} : { cert: config.nats.tlsCert }), ...(config.nats.tlsKey === undefined ? {} : { key: config.nats.tlsKey }) } : undefined,
    log,
    // Every KV operation is a request: no stack capture for each (timeouts still say what timed out).
    noAsyncTraces: true,
  });

  const observe = (bucket: string, op: string, seconds: number, ok: boolean): void =>
    metrics.kvSeconds.observe({ bucket, op, result: ok ? 'ok' : 'error' }, seconds);
  const replicas = config.kvReplicas;
  const storage = config.kvStorage;
  const timeoutMs = config.kvTimeout;
  // Every KV operation of the stores is a core NATS request through this one inbox (CoreKv):
  // about half the client CPU of nats.js KV requests, and no timer per request.
  // One holder for every publish of the process (KV requests, SIP to send, events): what a turn of
  // the event loop publishes goes to the socket in one write.
  const publisher = new HeldPublisher(bus.nc, (subject, err) => log.warn({ subject, err: err instanceof Error ? err.message : String(err) }, 'publish refused by the NATS client'));
  const kvMux = new RequestMux(bus.nc, { publisher });
  const [bindingsKv, flowsKv, callsKv, noncesKv] = await Promise.all([
    openCoreKv(bus, kvMux, { bucket: config.bindingsBucket, replicas, storage, timeoutMs, description: 'sipnats registrations (one key per AoR)' }),
    openCoreKv(bus, kvMux, { bucket: config.flowsBucket, replicas, storage, timeoutMs, ttlMs: flowIndexTtlMs(config.maxExpires), description: 'sipnats registrations by connection flow' }),
    openCoreKv(bus, kvMux, { bucket: config.callsBucket, replicas, storage, timeoutMs, ttlMs: config.callTtl, description: 'sipnats calls, dialog index and timer marks' }),
    openCoreKv(bus, kvMux, { bucket: config.noncesBucket, replicas, storage, timeoutMs, ttlMs: config.nonceLifetime * 2, description: 'sipnats digest nonce counts' }),
  ]);
  const bindingRecords = new KvRecords<BindingSet>({ kv: bindingsKv, bucket: config.bindingsBucket, guard: KvBindingStore.guard, timeoutMs, observe });
  const bindings = new KvBindingStore(bindingRecords);
  const flowIndex = new KvFlowIndexStore(new KvRecords<FlowAors>({ kv: flowsKv, bucket: config.flowsBucket, guard: KvFlowIndexStore.guard, timeoutMs, observe }));
  // An existing bucket keeps its max age: how often a binding is indexed again follows the real one.
  const flowsTtl = (await flowsKv.kv.status()).ttl;
  const reindexAfterMs = flowReindexAfterMs(flowsTtl, config.maxExpires);
  if (reindexAfterMs === 0) log.warn({ bucket: config.flowsBucket, ttlMs: flowsTtl, maxExpires: config.maxExpires }, 'flow index bucket max age is shorter than registrations may live: every REGISTER on a connection rewrites its entry');
  const calls = new KvCallStore(new KvRecords<CallsValue>({ kv: callsKv, bucket: config.callsBucket, guard: isCallsValue, timeoutMs, observe }));
  const uacs = new KvUacStore(new KvRecords<UacEntry>({ kv: callsKv, bucket: config.callsBucket, guard: isUacEntry, timeoutMs, observe }));
  const leases = new KvLeaseStore(new KvRecords<Lease>({ kv: callsKv, bucket: config.callsBucket, guard: isLease, timeoutMs, observe }));
  const nonceCounts = new KvNonceCountStore(new KvRecords<NonceCountValue>({ kv: noncesKv, bucket: config.noncesBucket, guard: isNonceCountValue, timeoutMs, observe }));

  const credentialStores: CredentialStore[] = [];
  if (config.usersFile !== undefined) {
    const file = await loadCredentialFile(config.usersFile);
    log.info({ users: file.size }, 'users file loaded');
    credentialStores.push(file);
  }
  if (config.usersBucket !== undefined) {
    // Credentials are provisioned data: always on disk.
    const usersKv = await openCoreKv(bus, kvMux, { bucket: config.usersBucket, replicas, storage: 'file', timeoutMs, description: 'sipnats digest credentials' });
    credentialStores.push(new KvCredentialStore(new KvRecords<UserCredentials>({ kv: usersKv, bucket: config.usersBucket, guard: isUserCredentials, timeoutMs, observe })));
  }
  if (config.authRequired && credentialStores.length === 0) log.warn('authentication on but no SIPNATS_USERS_FILE or SIPNATS_USERS_BUCKET: every REGISTER will be refused');

  const app = build({
    config,
    messaging: natsMessaging(bus.nc, () => bus.connected, publisher),
    calls,
    uacs,
    bindings,
    flows: { store: flowIndex, reindexAfterMs },
    bindingSweepStore: bindings,
    nonceCounts,
    credentials: new ChainedCredentialStore(credentialStores),
    nonceSecret,
    clock: Date.now,
    random: pooledRandom((buf) => randomFillSync(buf)),
    log,
    metrics,
    ...(config.routesFile === undefined ? {} : { routes: await loadRouteFile(config.routesFile) }),
    ...(config.trunksFile === undefined ? {} : { trunks: await loadTrunkFile(config.trunksFile), leases }),
    dns: new NodeDnsPort(config.dnsServers === undefined ? {} : { servers: config.dnsServers }),
  });

  const service = await registerService(bus, {
    name: 'sipnats-ua',
    version: VERSION,
    description: 'sipnats UA/dialog service: registrar, dialogs, call control',
    metadata: { instance: config.instanceId, prefix: config.prefix },
  });

  const ops = createOpsServer({
    registry,
    ready: () => {
      if (app.draining) return { ready: false, reason: 'draining' };
      if (!bus.connected) return { ready: false, reason: 'NATS disconnected' };
      return { ready: true, reason: 'ready' };
    },
  });
  const { host, port } = parseHostPort(config.httpListen);
  const httpPort = await listenOps(ops, host, port);
  app.start();
  log.info({ http: `${host}:${httpPort}`, version: VERSION }, 'sipnats-ua started');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    // Last resort: the micro-service stop and the NATS drain wait on a server that may be gone.
    const deadline = setTimeout(() => {
      log.error({ signal }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.drainTimeout + 15_000);
    deadline.unref();
    void (async () => {
      try {
        await app.drain(config.drainTimeout);
        await service.stop();
        await bus.drain();
        ops.close();
        log.info('stopped');
        process.exit(0);
      } catch (err) {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`sipnats-ua: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
