/** One service instance (transport or ua) of a local cluster, run from its built dist/main.js. */
import { ManagedChild } from './child-process.js';
import type { LineSink } from './child-process.js';
import type { ServicePlan } from './cluster-plan.js';
import { httpGet, waitUntil } from './wait.js';

export interface ServiceNodeOptions {
  readonly nodePath: string;
  readonly detached?: boolean;
  readonly sink?: LineSink;
}

export class ServiceNode {
  readonly child: ManagedChild;

  constructor(
    readonly plan: ServicePlan,
    o: ServiceNodeOptions,
  ) {
    this.child = new ManagedChild({
      name: plan.instance,
      command: o.nodePath,
      args: [...plan.nodeArgs, plan.main],
      env: plan.env,
      ...(o.detached === undefined ? {} : { detached: o.detached }),
      ...(o.sink === undefined ? {} : { sink: o.sink }),
    });
  }

  get instance(): string {
    return this.plan.instance;
  }

  get running(): boolean {
    return this.child.running;
  }

  get httpBase(): string {
    const listen = this.plan.env['HTTP_LISTEN'] ?? `127.0.0.1:${this.plan.httpPort}`;
    return `http://${listen}`;
  }

  /** Starts the process and waits until /readyz answers 200 (NATS connected, KV open). */
  async start(timeoutMs = 30_000): Promise<void> {
    await this.child.spawn();
    await waitUntil(`${this.instance} /readyz`, async () => (await this.http('/readyz'))?.status === 200, {
      timeoutMs,
      abort: () => (this.child.running ? undefined : new Error(`${this.instance} exited:\n${this.child.logs.slice(-20).join('\n')}`)),
    });
  }

  http(path: string, timeoutMs = 2000): Promise<{ status: number; body: string } | undefined> {
    return httpGet(`${this.httpBase}${path}`, timeoutMs);
  }

  /** Sum of a Prometheus sample's series whose labels include `labels`; undefined when unreachable. */
  async metric(name: string, labels: Readonly<Record<string, string>> = {}): Promise<number | undefined> {
    const r = await this.http('/metrics');
    if (r === undefined || r.status !== 200) return undefined;
    return sumMetric(r.body, name, labels);
  }

  stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 40_000): Promise<number | null> {
    return this.child.stop(signal, killAfterMs);
  }

  kill(): Promise<number | null> {
    return this.child.stop('SIGKILL', 1000);
  }
}

/** Sum over the series of `name` in Prometheus text whose labels include every given label. */
export function sumMetric(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ([0-9.eE+-]+|NaN|[+-]Inf)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const found = new Map<string, string>();
    for (const kv of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) found.set(kv[1] ?? '', kv[2] ?? '');
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}
