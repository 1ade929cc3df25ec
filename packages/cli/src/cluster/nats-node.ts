/** One nats-server of a local cluster: writes its config, starts, stops, is killed and restarted. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { ManagedChild } from './child-process.js';
import type { LineSink } from './child-process.js';
import type { NatsNodePlan } from './cluster-plan.js';
import { httpGet, tcpAnswers, waitUntil } from './wait.js';

export interface NatsNodeOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly detached?: boolean;
  readonly sink?: LineSink;
  /** nats-server binary (default `nats-server` on PATH). */
  readonly bin?: string;
}

export class NatsNode {
  readonly child: ManagedChild;

  constructor(
    readonly plan: NatsNodePlan,
    o: NatsNodeOptions,
  ) {
    this.child = new ManagedChild({
      name: plan.name,
      command: o.bin ?? 'nats-server',
      args: ['-c', plan.configPath],
      env: o.env,
      ...(o.detached === undefined ? {} : { detached: o.detached }),
      ...(o.sink === undefined ? {} : { sink: o.sink }),
    });
  }

  get name(): string {
    return this.plan.name;
  }

  get url(): string {
    return this.plan.url;
  }

  get running(): boolean {
    return this.child.running;
  }

  /** Writes the config (store dir kept across restarts), starts the server, waits for its client port. */
  async start(timeoutMs = 15_000): Promise<void> {
    mkdirSync(this.plan.storeDir, { recursive: true });
    writeFileSync(this.plan.configPath, this.plan.config);
    await this.child.spawn();
    await waitUntil(`${this.name} client port ${this.plan.clientPort}`, () => tcpAnswers(this.plan.host, this.plan.clientPort, 500), {
      timeoutMs,
      abort: () => (this.child.running ? undefined : new Error(`${this.name} exited:\n${this.child.logs.slice(-20).join('\n')}`)),
    });
  }

  /** Resolves true when the server's /healthz says it (and JetStream on it) is current. */
  async healthy(): Promise<boolean> {
    const r = await httpGet(`http://${this.plan.host.includes(':') ? `[${this.plan.host}]` : this.plan.host}:${this.plan.monitorPort}/healthz`, 1000);
    return r?.status === 200;
  }

  stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 10_000): Promise<number | null> {
    return this.child.stop(signal, killAfterMs);
  }

  /** SIGKILL: the server dies without telling its clients or routes. */
  kill(): Promise<number | null> {
    return this.child.stop('SIGKILL', 1000);
  }
}
