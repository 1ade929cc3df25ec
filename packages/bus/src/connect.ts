/**
 * connectBus: one NATS connection per process, reconnecting forever with exponential backoff and
 * jitter. Status changes are logged and exposed (`connected`, `onStatus`); `drain()` is idempotent
 * and bounded by a timeout, after which the connection is closed.
 */
import { readFile } from 'node:fs/promises';
import { credsAuthenticator, type NatsConnection, type Status } from '@nats-io/nats-core';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { Logger } from '@sipnats/logging';
import { BUS_ERROR, BusError } from './errors.js';
import { redactServerUrl, splitServerCredentials } from './server-url.js';

export interface BusTlsOptions {
  /** CA bundle file to verify the server. */
  ca?: string;
  /** Client certificate file. */
  cert?: string;
  /** Client key file. */
  key?: string;
}

export interface ConnectBusOptions {
  /** Server URLs; credentials in a URL (`nats://user:pass@host`, `nats://token@host`) are used when no other auth option is set. */
  servers: readonly string[];
  /** Connection name shown by the server (e.g. `transport:<instance>`). */
  name: string;
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  /** NATS credentials file (JWT + NKey seed). */
  credsFile?: string | undefined;
  /** `true`: require TLS; an object: TLS with these files. */
  tls?: BusTlsOptions | boolean | undefined;
  log: Logger;
  /**
   * When true (the default), the first connection is retried forever as well: the returned promise
   * resolves once NATS is reachable. When false, it rejects if no server answers at once.
   */
  waitOnFirstConnect?: boolean;
  /** First reconnect delay in ms (default 250), doubled per failed attempt up to `maxReconnectDelayMs`. */
  reconnectDelayMs?: number;
  /** Longest reconnect delay in ms (default 5000). */
  maxReconnectDelayMs?: number;
  /** Client ping interval in ms (default 10000); two missed pongs mark the connection stale. */
  pingIntervalMs?: number;
  /** Default timeout of drain() in ms (default 10000). */
  drainTimeoutMs?: number;
  /**
   * When true, nats.js does not capture the caller's stack for every request/timer (it would only
   * be used to add context to timeout errors, which keep their message and code). Saves a stack
   * capture per request and JetStream/KV operation on hot paths. Default false.
   */
  noAsyncTraces?: boolean;
}

export type StatusListener = (status: Status, connected: boolean) => void;

export interface Bus {
  readonly nc: NatsConnection;
  /** True while a server connection is up. */
  readonly connected: boolean;
  /** True once drain() or close() was called. */
  readonly closing: boolean;
  /** Registers a status listener; returns a function that removes it. */
  onStatus(listener: StatusListener): () => void;
  /** Drains subscriptions and closes; idempotent. Closes hard after `timeoutMs`. */
  drain(timeoutMs?: number): Promise<void>;
  /** Closes at once (pending messages are dropped); idempotent. */
  close(): Promise<void>;
  /** Resolves when the connection is closed for good. */
  readonly closed: Promise<void>;
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with ±50% jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.max(1, Math.round(exp * (0.5 + random())));
}

async function buildOptions(o: ConnectBusOptions, delay: () => number): Promise<NodeConnectionOptions> {
  const fromUrls = splitServerCredentials(o.servers);
  const urlAuth = fromUrls.user !== undefined || fromUrls.token !== undefined;
  if (urlAuth && (o.user !== undefined || o.pass !== undefined || o.token !== undefined || o.credsFile !== undefined)) {
    throw new BusError(BUS_ERROR.connect, 'NATS credentials given both in a server URL and as options; use one');
  }
  const opts: NodeConnectionOptions = {
    servers: fromUrls.servers,
    name: o.name,
    reconnect: true,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: o.waitOnFirstConnect ?? true,
    reconnectDelayHandler: delay,
    pingInterval: o.pingIntervalMs ?? 10_000,
    maxPingOut: 2,
    timeout: 5_000,
  };
  if (o.noAsyncTraces === true) opts.noAsyncTraces = true;
  const user = o.user ?? fromUrls.user;
  const pass = o.pass ?? fromUrls.pass;
  const token = o.token ?? fromUrls.token;
  if (user !== undefined) opts.user = user;
  if (pass !== undefined) opts.pass = pass;
  if (token !== undefined) opts.token = token;
  if (o.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = await readFile(o.credsFile);
    } catch (cause) {
      throw new BusError(BUS_ERROR.connect, `cannot read NATS credentials file ${o.credsFile}`, { cause });
    }
    opts.authenticator = credsAuthenticator(creds);
  }
  if (o.tls === true) opts.tls = {};
  else if (typeof o.tls === 'object') {
    opts.tls = {};
    if (o.tls.ca !== undefined) opts.tls.caFile = o.tls.ca;
    if (o.tls.cert !== undefined) opts.tls.certFile = o.tls.cert;
    if (o.tls.key !== undefined) opts.tls.keyFile = o.tls.key;
  }
  return opts;
}

function logStatus(log: Logger, s: Status): void {
  switch (s.type) {
    case 'disconnect':
      log.warn({ server: s.server }, 'NATS disconnected');
      return;
    case 'reconnect':
      log.info({ server: s.server }, 'NATS reconnected');
      return;
    case 'reconnecting':
      log.debug('NATS reconnecting');
      return;
    case 'error':
      log.error({ err: s.error }, 'NATS error');
      return;
    case 'ldm':
      log.warn({ server: s.server }, 'NATS server entering lame duck mode');
      return;
    case 'staleConnection':
      log.warn('NATS connection stale');
      return;
    case 'slowConsumer':
      log.warn({ subject: s.sub.getSubject(), pending: s.pending }, 'NATS slow consumer');
      return;
    case 'close':
      log.info('NATS connection closed');
      return;
    case 'update':
      log.debug({ added: s.added, deleted: s.deleted }, 'NATS cluster update');
      return;
    default:
      return;
  }
}

export async function connectBus(o: ConnectBusOptions): Promise<Bus> {
  const log = o.log;
  const base = o.reconnectDelayMs ?? 250;
  const max = o.maxReconnectDelayMs ?? 5_000;
  let attempt = 0;
  let everConnected = false;
  // Only URLs without credentials are ever logged or put into messages.
  const shown = o.servers.map(redactServerUrl);
  const delay = (): number => {
    const ms = backoffDelay(attempt, base, max);
    // Before the first connection nats.js reports no status: say why the service is waiting.
    // nats.js asks for a delay once before its first attempt too: only failures (attempt 1, 11, ...) are reported.
    if (!everConnected && attempt % 10 === 1) log.warn({ servers: shown, attempt, retryInMs: ms }, 'NATS not reachable yet; retrying');
    attempt++;
    return ms;
  };
  const opts = await buildOptions(o, delay);

  let nc: NatsConnection;
  try {
    nc = await connect(opts);
  } catch (cause) {
    throw new BusError(BUS_ERROR.connect, `cannot connect to NATS at ${shown.join(', ')}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  everConnected = true;
  attempt = 0;
  log.info({ server: nc.getServer() }, 'NATS connected');

  let connected = true;
  let closing = false;
  const listeners = new Set<StatusListener>();

  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'close' || s.type === 'staleConnection') connected = false;
      else if (s.type === 'reconnect') {
        connected = true;
        attempt = 0;
      }
      logStatus(log, s);
      for (const l of listeners) {
        try {
          l(s, connected);
        } catch (err) {
          log.error({ err }, 'NATS status listener threw');
        }
      }
    }
  })().catch((err: unknown) => log.error({ err }, 'NATS status loop failed'));

  const closed = nc.closed().then((err) => {
    connected = false;
    if (err instanceof Error) log.error({ err }, 'NATS connection closed with an error');
  });

  let draining: Promise<void> | undefined;

  const bus: Bus = {
    nc,
    get connected() {
      return connected && !nc.isClosed();
    },
    get closing() {
      return closing;
    },
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    drain(timeoutMs = o.drainTimeoutMs ?? 10_000) {
      if (draining !== undefined) return draining;
      closing = true;
      draining = (async () => {
        if (nc.isClosed()) return;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
          timer.unref();
        });
        try {
          const r = await Promise.race([nc.drain().then(() => 'drained' as const), timeout]);
          if (r === 'timeout') {
            log.warn({ timeoutMs }, 'NATS drain timed out; closing');
            await nc.close();
          }
        } catch (err) {
          log.warn({ err }, 'NATS drain failed; closing');
          if (!nc.isClosed()) await nc.close();
        } finally {
          clearTimeout(timer);
        }
        await closed;
      })();
      return draining;
    },
    async close() {
      closing = true;
      if (!nc.isClosed()) await nc.close();
      await closed;
    },
    closed,
  };
  return bus;
}
