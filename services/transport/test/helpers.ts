/** Shared helpers of the transport unit tests. */
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** RFC 3261 `token`. */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

import { loadConfig } from '@sipnats/config';
import { createLogger } from '@sipnats/logging';
import { build, type App } from '../src/app.js';
import { transportChecks, transportSettings } from '../src/config.js';
import { createMetrics } from '../src/ops/metrics.js';
import type { NatsPort, PortMessage } from '../src/publish/nats-port.js';
import type { RawHeaders } from '../src/publish/raw-headers.js';

export interface Published {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly reply: string | undefined;
}

/** A NatsPort that records publishes and lets a test deliver messages to subscriptions. */
export class FakeNats implements NatsPort {
  connected = true;
  readonly published: Published[] = [];
  readonly subs = new Map<string, (msg: PortMessage) => void>();

  publish(subject: string, data: Uint8Array, headers?: RawHeaders, reply?: string): void {
    this.published.push({ subject, data, headers: headers?.flow.record(headers.at), reply });
  }

  subscribe(subject: string, _queue: string | undefined, onMessage: (msg: PortMessage) => void): { unsubscribe(): void } {
    this.subs.set(subject, onMessage);
    return { unsubscribe: () => this.subs.delete(subject) };
  }

  deliver(subject: string, data: Uint8Array, reply?: string): void {
    const fn = this.subs.get(subject);
    if (fn === undefined) throw new Error(`no subscription on ${subject}`);
    fn({ subject, data, reply });
  }

  on(prefix: string): Published[] {
    return this.published.filter((p) => p.subject.startsWith(prefix));
  }
}

/** The app wired with a fake NATS, a silent logger and its own metrics registry. */
export function testApp(env: Record<string, string>): { app: App; nats: FakeNats } {
  const config = loadConfig(transportSettings, { SIPNATS_INSTANCE_ID: 'unit-1', LOG_LEVEL: 'silent', ...env }, { checks: [transportChecks] });
  const nats = new FakeNats();
  const app = build({
    config,
    log: createLogger({ name: 'transport-test', level: 'silent' }),
    nats,
    metrics: createMetrics(false),
    secret: 'unit-test-secret-0123456789abcdef',
  });
  return { app, nats };
}

export function waitFor(what: string, fn: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (fn()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}
