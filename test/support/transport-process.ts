/**
 * Spawns the real transport (`services/transport/dist/main.js`, built beforehand) with listeners on
 * free ports and waits until /readyz answers 200. Logs are kept in memory for assertions and for
 * printing when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SERVICE_START } from '../../packages/cli/src/cluster/index.js';
import { freePort } from './ports.js';
import { stopProcess } from './nats-server.js';

export const TRANSPORT_MAIN = fileURLToPath(new URL('../../services/transport/dist/main.js', import.meta.url));

export interface TransportOptions {
  readonly natsUrl: string;
  readonly instance: string;
  /** Transports to listen on, each gets a free port on `host` (ws/wss too). Default udp+tcp. */
  readonly transports?: ReadonlyArray<'udp' | 'tcp' | 'tls' | 'ws' | 'wss'>;
  /** IP address the SIP listeners bind (IPv6 without brackets, e.g. `::1`). Default 127.0.0.1. */
  readonly host?: string;
  /** Extra environment (SIP_TLS_CERT, SIP_ADVERTISE, timers...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Shared routing secret (defaults to a fixed test secret, the same for every instance). */
  readonly secret?: string;
  /** Node.js options before the script besides SERVICE_START's (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** Script to run instead of TRANSPORT_MAIN (e.g. a copy of an older build, for benchmarks). */
  readonly main?: string;
  /** Wait for /readyz (NATS connected). Default true. */
  readonly waitReady?: boolean;
}

export interface TransportProcess {
  readonly child: ChildProcess;
  /** performance.now() when the process was spawned. */
  readonly spawnedAt: number;
  readonly instance: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly httpPort: number;
  readonly logs: string[];
  http(path: string): Promise<{ status: number; body: string }>;
  /** Value of a Prometheus sample (sum over series matching every given label). */
  metric(name: string, labels?: Readonly<Record<string, string>>): Promise<number>;
  /** Sends a signal and resolves with the exit code (SIGKILL after the timeout). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export const TEST_SECRET = 'integration-test-secret-0123456789';

export async function startTransport(o: TransportOptions): Promise<TransportProcess> {
  const transports = o.transports ?? ['udp', 'tcp'];
  const ports: Record<string, number> = {};
  const listen: string[] = [];
  const host = o.host ?? '127.0.0.1';
  const listenHost = host.includes(':') ? `[${host}]` : host;
  for (const t of transports) {
    const p = await freePort(host);
    ports[t] = p;
    listen.push(`${t}:${listenHost}:${p}`);
  }
  const httpPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    NATS_URL: o.natsUrl,
    SIPNATS_INSTANCE_ID: o.instance,
    SIPNATS_SECRET: o.secret ?? TEST_SECRET,
    SIP_LISTEN: listen.join(','),
    HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    LOG_LEVEL: process.env['SIPNATS_TEST_LOG_LEVEL'] ?? 'info',
    ...o.env,
  };
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...SERVICE_START.transport.nodeArgs, ...(o.nodeArgs ?? []), o.main ?? TRANSPORT_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(line);
    if (logs.length > 5000) logs.splice(0, logs.length - 5000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const http = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`);
    return { status: res.status, body: await res.text() };
  };
  const proc: TransportProcess = {
    child,
    spawnedAt,
    instance: o.instance,
    ports,
    httpPort,
    logs,
    http,
    async metric(name, labels = {}) {
      const { body } = await http('/metrics');
      let sum = 0;
      for (const line of body.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ([0-9.eE+-]+|NaN)$/.exec(line);
        if (m === null || m[1] !== name) continue;
        const ls = new Map<string, string>();
        for (const kv of (m[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) ls.set(kv[1] as string, kv[2] as string);
        if (Object.entries(labels).every(([k, v]) => ls.get(k) === v)) sum += Number(m[4]);
      }
      return sum;
    },
    stop: (signal = 'SIGTERM', timeoutMs = 10_000) => stopProcess(child, signal, timeoutMs),
    exited,
  };
  const deadline = Date.now() + 15_000;
  const want = o.waitReady === false ? '/healthz' : '/readyz';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`transport exited with ${child.exitCode}:\n${logs.join('\n')}`);
    try {
      if ((await http(want)).status === 200) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`transport not ready:\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
