import assert from 'node:assert/strict';
import { loadConfig } from '@sipnats/config';
import { createLogger } from '@sipnats/logging';
import { Registry } from 'prom-client';
import { build } from '../src/app.js';
import { StaticCredentialStore } from '../src/auth/credential-store.js';
import { MemoryNonceCountStore } from '../src/auth/nonce-count-store.js';
import { uaSettings } from '../src/config.js';
import { createUaMetrics } from '../src/ops/metrics.js';
import { MemoryBindingStore } from '../src/registrar/binding-store.js';
import type { InMessage } from '../src/runtime/messaging.js';
import { MemoryCallStore } from '../src/store/call-store.js';
import { MemoryUacStore } from '../src/store/uac-store.js';
import { FakeMessaging } from './app-harness.js';
import { FakeClock, seededRandom } from './support/fakes.js';

/** NATS gone: a subscription drain never completes. */
class StuckMessaging extends FakeMessaging {
  override subscribe(subject: string, queue: string | undefined, handler: (m: InMessage) => void) {
    const sub = super.subscribe(subject, queue, handler);
    return { unsubscribe: sub.unsubscribe, drain: () => new Promise<void>(() => undefined) };
  }
}

describe('ua app: SIGTERM drain', () => {
  it('drain(timeoutMs) resolves within its deadline even when the subscriptions never finish draining', async () => {
    const clock = new FakeClock();
    const app = build({
      config: loadConfig(uaSettings, { SIPNATS_INSTANCE_ID: 'ua-drain', SIPNATS_AUTH_SECRET: 'unit-test-secret-0123456789' }),
      messaging: new StuckMessaging(),
      calls: new MemoryCallStore(),
      uacs: new MemoryUacStore(),
      bindings: new MemoryBindingStore(),
      nonceCounts: new MemoryNonceCountStore({ maxEntries: 10, ttlMs: 300_000, clock: clock.read }),
      credentials: new StaticCredentialStore([]),
      nonceSecret: Buffer.from('unit-test-secret-0123456789'),
      clock: clock.read,
      random: seededRandom(),
      log: createLogger({ name: 'ua-drain', level: 'silent' }),
      metrics: createUaMetrics(new Registry()),
    });
    app.start();
    const started = performance.now();
    const outcome = await Promise.race([app.drain(100).then(() => 'drained'), new Promise((r) => setTimeout(() => r('hung'), 2000))]);
    assert.equal(outcome, 'drained');
    assert.ok(performance.now() - started < 1000);
    assert.equal(app.draining, true);
    assert.equal(app.queue.closed, true);
  });
});
