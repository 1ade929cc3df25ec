import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { createLogger } from '@sipnats/logging';
import { connectBus, type Bus } from '../src/connect.js';
import { BUS_ERROR, BusError, KvConflictError } from '../src/errors.js';
import { directGets, kvCreateJson, kvDelete, kvGetJson, kvPutJson, kvReplaceJson, kvUpdateJson, openKv } from '../src/kv.js';
import { registerService } from '../src/service.js';
import { freePort, NatsServer, waitFor } from './support.js';

const log = createLogger({ name: 'bus-test', level: 'silent' });
const SHARED = 'nats://127.0.0.1:4222';

const Counter = Type.Object({ n: Type.Integer({ minimum: 0 }), by: Type.Optional(Type.String()) }, { $id: 'Counter', additionalProperties: false });

describe('bus: against the shared nats-server', () => {
  let bus: Bus;
  const buckets: string[] = [];

  before(async () => {
    bus = await connectBus({ servers: [SHARED], name: 'bus-test', log, waitOnFirstConnect: false });
  });
  after(async () => {
    for (const b of buckets) {
      try {
        const kv = await openKv(bus, { bucket: b });
        await kv.destroy();
      } catch {
        // already gone
      }
    }
    await bus.drain();
  });

  function bucket(): string {
    const b = `test_bus_${randomUUID().replace(/-/g, '')}`;
    buckets.push(b);
    return b;
  }

  it('connects and reports connected', () => {
    assert.equal(bus.connected, true);
    assert.equal(bus.closing, false);
  });

  it('openKv creates the bucket when missing and is idempotent', async () => {
    const name = bucket();
    const [a, b] = await Promise.all([openKv(bus, { bucket: name, history: 2 }), openKv(bus, { bucket: name, history: 2 })]);
    await a.put('k', 'v');
    assert.equal((await b.get('k'))?.string(), 'v');
    const status = await (await openKv(bus, { bucket: name, history: 2 })).status();
    assert.equal(status.history, 2);
    await assert.rejects(openKv(bus, { bucket: 'bad.name' }), (e: unknown) => e instanceof BusError && e.code === BUS_ERROR.kvKey);
  });

  it('direct gets: on by default for one replica, off for several (a replica can lag), an explicit choice wins', () => {
    assert.equal(directGets(1), true);
    assert.equal(directGets(3), false);
    assert.equal(directGets(5), false);
    assert.equal(directGets(1, false), false);
    assert.equal(directGets(3, true), true);
  });

  it('openKv: direct gets by default only for a single-replica bucket (no replica to lag), and brings an existing bucket in line', async () => {
    const name = bucket();
    const direct = async (o: { allowDirect?: boolean }): Promise<boolean | undefined> =>
      (await (await openKv(bus, { bucket: name, ...o })).status()).streamInfo.config.allow_direct;
    // Made by an older version (or an operator) with direct gets off…
    assert.equal(await direct({ allowDirect: false }), false);
    // …opened by this version: one replica is the leader itself, so direct gets go on.
    assert.equal(await direct({}), true);
    const kv = await openKv(bus, { bucket: name });
    await kv.put('k', 'v');
    assert.equal((await kv.get('k'))?.string(), 'v');
    // Read-after-write through direct gets, many times over.
    for (let i = 0; i < 50; i++) {
      const r = await kv.put('k', `v${i}`);
      const e = await kv.get('k');
      assert.equal(e?.revision, r);
      assert.equal(e?.string(), `v${i}`);
    }
  });

  it('typed JSON: create, get, replace with compare-and-set, delete', async () => {
    const kv = await openKv(bus, { bucket: bucket() });
    assert.equal(await kvGetJson(kv, 'c', Counter), null);
    const r1 = await kvCreateJson(kv, 'c', Counter, { n: 1 });
    await assert.rejects(kvCreateJson(kv, 'c', Counter, { n: 9 }), KvConflictError);
    assert.deepEqual(await kvGetJson(kv, 'c', Counter), { value: { n: 1 }, revision: r1 });
    const r2 = await kvReplaceJson(kv, 'c', Counter, { n: 2 }, r1);
    assert.ok(r2 > r1);
    await assert.rejects(kvReplaceJson(kv, 'c', Counter, { n: 3 }, r1), (e: unknown) => e instanceof KvConflictError && e.key === 'c');
    await assert.rejects(kvDelete(kv, 'c', r1), KvConflictError);
    await kvDelete(kv, 'c', r2);
    assert.equal(await kvGetJson(kv, 'c', Counter), null);
    // A deleted key can be created again.
    await kvCreateJson(kv, 'c', Counter, { n: 5 });
    assert.equal((await kvGetJson(kv, 'c', Counter))?.value.n, 5);
  });

  it('validates values on the way in and out', async () => {
    const kv = await openKv(bus, { bucket: bucket() });
    await assert.rejects(kvPutJson(kv, 'x', Counter, { n: -1 }), /invalid Counter/);
    await kv.put('bad', '{"n":"one"}');
    await assert.rejects(kvGetJson(kv, 'bad', Counter), (e: unknown) => e instanceof BusError && e.code === BUS_ERROR.kvValue);
  });

  it('kvUpdateJson: concurrent read-modify-write loses no update', async () => {
    const kv = await openKv(bus, { bucket: bucket() });
    const writers = 6;
    const revisions = await Promise.all(
      Array.from({ length: writers }, (_, i) => kvUpdateJson(kv, 'n', Counter, (cur) => ({ n: (cur?.n ?? 0) + 1, by: `w${i}` }), { retries: 20 })),
    );
    assert.equal(new Set(revisions).size, writers);
    assert.equal((await kvGetJson(kv, 'n', Counter))?.value.n, writers);
  });

  it('kvUpdateJson gives up with KvConflictError when every attempt loses', async () => {
    const kv = await openKv(bus, { bucket: bucket() });
    await kvPutJson(kv, 'n', Counter, { n: 0 });
    let calls = 0;
    await assert.rejects(
      kvUpdateJson(
        kv,
        'n',
        Counter,
        async (cur) => {
          calls++;
          await kvPutJson(kv, 'n', Counter, { n: (cur?.n ?? 0) + 100 }); // another writer wins every time
          return { n: 1 };
        },
        { retries: 2 },
      ),
      KvConflictError,
    );
    assert.equal(calls, 3);
  });

  it('registerService answers $SRV.PING, INFO and STATS', async () => {
    const name = `sipnats-test-${randomUUID().slice(0, 8)}`;
    const svc = await registerService(bus, { name, version: '0.1.0', description: 'test service', metadata: { instance: 'i1' } });
    try {
      const ping = (await bus.nc.request(`$SRV.PING.${name}`, '', { timeout: 2000 })).json<Record<string, unknown>>();
      assert.equal(ping['name'], name);
      assert.equal(ping['id'], svc.id);
      assert.equal(ping['type'], 'io.nats.micro.v1.ping_response');
      const info = (await bus.nc.request(`$SRV.INFO.${name}`, '', { timeout: 2000 })).json<Record<string, unknown>>();
      assert.equal(info['description'], 'test service');
      assert.deepEqual(info['metadata'], { instance: 'i1' });
      const stats = (await bus.nc.request(`$SRV.STATS.${name}.${svc.id}`, '', { timeout: 2000 })).json<Record<string, unknown>>();
      assert.equal(stats['type'], 'io.nats.micro.v1.stats_response');
    } finally {
      await svc.stop();
      await svc.stop();
    }
    await assert.rejects(registerService(bus, { name: 'bad name', version: '1.0.0', description: '' }), BusError);
    await assert.rejects(registerService(bus, { name: 'ok', version: 'one', description: '' }), BusError);
  });
});

describe('bus: reconnect with its own nats-server', () => {
  let server: NatsServer;
  let bus: Bus | undefined;

  beforeEach(async () => {
    server = new NatsServer(await freePort());
  });
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
    await server.dispose();
  });

  it('flips connected false → true when the server dies and comes back', async () => {
    await server.start();
    const b = await connectBus({ servers: [server.url], name: 'reconnect-test', log, reconnectDelayMs: 50, maxReconnectDelayMs: 200, waitOnFirstConnect: false });
    bus = b;
    const seen: string[] = [];
    b.onStatus((s, connected) => seen.push(`${s.type}:${connected}`));
    assert.equal(b.connected, true);

    await server.kill();
    await waitFor(() => !b.connected, 5000, 'disconnect');
    await server.start();
    await waitFor(() => b.connected, 10_000, 'reconnect');
    assert.ok(seen.includes('disconnect:false'), seen.join(','));
    assert.ok(seen.includes('reconnect:true'), seen.join(','));

    // The connection works again.
    const sub = b.nc.subscribe('echo.test', { max: 1, callback: (_e, m) => void m.respond(m.data) });
    const reply = await b.nc.request('echo.test', 'hi', { timeout: 2000 });
    assert.equal(reply.string(), 'hi');
    sub.unsubscribe();
  });

  it('waitOnFirstConnect: starts while NATS is down and connects when it comes up', async () => {
    const lines: string[] = [];
    const capturing = createLogger({
      name: 'late',
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString('utf8'));
          cb();
        },
      }),
    });
    const pending = connectBus({ servers: [server.url], name: 'late-test', log: capturing, reconnectDelayMs: 50, maxReconnectDelayMs: 200 });
    let settled = false;
    void pending.then(
      (b) => {
        settled = true;
        bus = b;
      },
      () => {
        settled = true;
      },
    );
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(settled, false, 'connectBus must keep trying while NATS is down');
    await server.start();
    const b = await pending;
    bus = b;
    assert.equal(b.connected, true);
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.equal(msgs[0], 'NATS not reachable yet; retrying');
    assert.equal(msgs.at(-1), 'NATS connected');
  });

  it('waitOnFirstConnect with NATS up: connects without a "not reachable" warning', async () => {
    await server.start();
    const lines: string[] = [];
    const capturing = createLogger({
      name: 'up',
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString('utf8'));
          cb();
        },
      }),
    });
    bus = await connectBus({ servers: [server.url], name: 'up-test', log: capturing });
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { msg: string }).msg), ['NATS connected']);
  });

  it('fails fast without waitOnFirstConnect, with a BusError', async () => {
    await assert.rejects(
      connectBus({ servers: [server.url], name: 'fail-test', log, waitOnFirstConnect: false }),
      (e: unknown) => e instanceof BusError && e.code === BUS_ERROR.connect,
    );
  });

  it('drain is idempotent and closes the connection', async () => {
    await server.start();
    const b = await connectBus({ servers: [server.url], name: 'drain-test', log, waitOnFirstConnect: false });
    bus = b;
    b.nc.subscribe('x.y', { callback: () => undefined });
    const [r1, r2] = [b.drain(), b.drain()];
    assert.equal(r1, r2);
    await r1;
    assert.equal(b.closing, true);
    assert.equal(b.connected, false);
    assert.equal(b.nc.isClosed(), true);
    await b.close();
  });
});
