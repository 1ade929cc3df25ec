/**
 * The ua's KV store layer (KvRecords) over CoreKv against a real nats-server: what its callers see
 * for each outcome (missing, deleted, conflicts), and how an operation behaves while NATS restarts
 * (retried until it lands) or stays away (UA_STORE_UNAVAILABLE once SIPNATS_KV_TIMEOUT is spent,
 * which the request turns into a 503).
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { openCoreKv, RequestMux, type CoreKv } from '@sipnats/bus';
import { isUnavailable } from '../../services/ua/src/errors.js';
import { KvRecords } from '../../services/ua/src/store/kv-records.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';

interface Rec {
  readonly n: number;
}
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && typeof (v as { n?: unknown }).n === 'number';

describe('ua KvRecords over CoreKv, against its own nats-server', function () {
  this.timeout(60_000);
  let server: NatsServer;
  let nc: NatsConnection;
  let mux: RequestMux;
  let kv: CoreKv;
  const observed: string[] = [];

  function records(timeoutMs: number): KvRecords<Rec> {
    return new KvRecords<Rec>({ kv, bucket: 'ua_records', guard: isRec, timeoutMs, observe: (_b, op, _s, ok) => observed.push(`${op}:${ok}`) });
  }

  before(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, reconnectTimeWait: 50, maxReconnectAttempts: -1, noAsyncTraces: true });
    mux = new RequestMux(nc);
    kv = await openCoreKv({ nc }, mux, { bucket: 'ua_records', history: 2 });
  });
  after(async () => {
    mux.close();
    await nc.close();
    await server.dispose();
  });

  it('maps every outcome as the stores expect: missing/deleted → undefined, lost compare-and-set → undefined/false, corrupt → UA_STORE_CORRUPT', async () => {
    const r = records(2000);
    assert.equal(await r.get('a'), undefined);
    const r1 = await r.create('a', { n: 1 });
    assert.equal(typeof r1, 'number');
    assert.equal(await r.create('a', { n: 2 }), undefined, 'exists: a conflict, not an error');
    assert.deepEqual(await r.get('a'), { value: { n: 1 }, revision: r1 });
    const r2 = await r.update('a', { n: 2 }, r1 as number);
    assert.equal(await r.update('a', { n: 3 }, r1 as number), undefined, 'stale revision');
    assert.equal(await r.delete('a', r1), false, 'delete at a stale revision');
    assert.equal(await r.delete('a', r2), true);
    assert.equal(await r.get('a'), undefined, 'a deleted key reads as missing');
    assert.equal(typeof (await r.create('a', { n: 4 })), 'number', 'created again over its delete marker');
    await r.put('a', { n: 5 });
    assert.equal(await r.delete('a'), true);
    await kv.put('bad', new TextEncoder().encode('{"n":"x"}'));
    await assert.rejects(r.get('bad'), (err: unknown) => (err as { code?: string }).code === 'UA_STORE_CORRUPT');
    assert.ok(observed.includes('get:true') && observed.includes('create:true') && observed.includes('delete:true'));
  });

  it('an operation made while NATS restarts is retried and lands once', async () => {
    const r = records(5000);
    const r1 = (await r.create('restart', { n: 1 })) as number;
    await server.stop();
    const started = performance.now();
    const update = r.update('restart', { n: 2 }, r1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await server.start();
    const r2 = await update;
    assert.equal(r2, r1 + 1, 'the update landed, once');
    assert.ok(performance.now() - started < 5000);
    assert.deepEqual(await r.get('restart'), { value: { n: 2 }, revision: r2 });
  });

  it('with NATS away for longer than SIPNATS_KV_TIMEOUT, the operation fails as store-unavailable at its deadline', async () => {
    const r = records(600);
    await r.put('away', { n: 1 });
    await server.stop();
    try {
      const started = performance.now();
      await assert.rejects(r.get('away'), isUnavailable);
      const took = performance.now() - started;
      // The budget (timeout − 20 ms), then at most one sweep of the request mux (50 ms).
      assert.ok(took >= 400 && took < 800, `failed after ${took.toFixed(0)} ms`);
      assert.equal(mux.waiting, 0, 'no request left waiting');
    } finally {
      await server.start();
    }
  });
});
