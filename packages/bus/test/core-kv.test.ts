import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { JetStreamApiError } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { createLogger } from '@sipnats/logging';
import { connectBus, type Bus } from '../src/connect.js';
import { CoreKv, openCoreKv } from '../src/core-kv.js';
import { KvStatusError, NatsRequestError, type NatsRequestFailure } from '../src/errors.js';
import { openKv } from '../src/kv.js';
import { RequestMux } from '../src/request-mux.js';
import { freePort, NatsServer, waitFor } from './support.js';

const log = createLogger({ name: 'core-kv-test', level: 'silent' });
const SHARED = 'nats://127.0.0.1:4222';
const text = new TextEncoder();
const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** The error nats.js KV gives a compare-and-set that lost (what KvRecords' isCasFailure checks). */
function casFailure(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10071 || err.code === 10164) && err.status === 400;
}

function failedWith(reason: NatsRequestFailure): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof NatsRequestError, `expected a NatsRequestError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return true;
  };
}

describe('bus CoreKv: KV operations on core NATS, against the shared nats-server', () => {
  let bus: Bus;
  let mux: RequestMux;
  const buckets: string[] = [];

  before(async () => {
    bus = await connectBus({ servers: [SHARED], name: 'core-kv-test', log, waitOnFirstConnect: false });
    mux = new RequestMux(bus.nc);
  });
  after(async () => {
    for (const b of buckets) {
      try {
        await (await openKv(bus, { bucket: b })).destroy();
      } catch {
        // already gone
      }
    }
    mux.close();
    await bus.drain();
  });

  function bucket(): string {
    const b = `test_corekv_${randomUUID().replace(/-/g, '')}`;
    buckets.push(b);
    return b;
  }

  for (const direct of [true, false]) {
    const how = direct ? 'direct get' : '$JS.API.STREAM.MSG.GET (a replicated bucket reads through the leader)';
    describe(`reads by ${how}`, () => {
      let kv: CoreKv;
      beforeEach(async () => {
        // allowDirect false on one replica forces the path a replicated bucket takes.
        kv = await openCoreKv(bus, mux, { bucket: bucket(), history: 2, allowDirect: direct });
        assert.equal(kv.direct, direct);
      });

      it('get: null for a key that never existed; value, revision and PUT after a write', async () => {
        assert.equal(await kv.get('nope'), null);
        const r = await kv.put('a.b', text.encode('hello'));
        const e = await kv.get('a.b');
        assert.equal(str(e?.value), 'hello');
        assert.equal(e?.revision, r);
        assert.equal(e?.operation, 'PUT');
        // An empty value and arbitrary bytes (base64 on the JSON path) come back as written.
        const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
        const r2 = await kv.put('bin', bytes);
        assert.ok(Buffer.from(bytes).equals(Buffer.from((await kv.get('bin'))?.value ?? [])));
        await kv.put('empty', new Uint8Array(0));
        assert.equal((await kv.get('empty'))?.value.length, 0);
        assert.equal((await kv.get('empty'))?.operation, 'PUT');
        assert.ok(r2 > r);
      });

      it('agrees with nats.js KV on every entry: value, revision, operation', async () => {
        await kv.put('x', text.encode('1'));
        await kv.put('y', text.encode('2'));
        await kv.delete('y');
        await kv.kv.purge('z');
        for (const key of ['x', 'y', 'z', 'none']) {
          const mine = await kv.get(key);
          const theirs = await kv.kv.get(key);
          assert.equal(mine?.revision, theirs?.revision, key);
          assert.equal(mine?.operation, theirs?.operation, key);
          assert.equal(str(mine?.value), theirs === null ? undefined : theirs.string(), key);
        }
      });

      it('create: a new key gets its revision; an existing key is a compare-and-set failure', async () => {
        const r = await kv.create('c', text.encode('one'));
        assert.equal((await kv.get('c'))?.revision, r);
        await assert.rejects(kv.create('c', text.encode('two')), casFailure);
        assert.equal(str((await kv.get('c'))?.value), 'one');
      });

      it('create over a deleted or purged key writes on top of its marker (as nats.js does)', async () => {
        const r1 = await kv.create('d', text.encode('one'));
        await kv.delete('d');
        const marker = await kv.get('d');
        assert.equal(marker?.operation, 'DEL');
        assert.ok((marker?.revision ?? 0) > r1);
        const r2 = await kv.create('d', text.encode('two'));
        assert.ok(r2 > (marker?.revision ?? 0));
        assert.deepEqual({ ...(await kv.get('d')), value: undefined }, { value: undefined, revision: r2, operation: 'PUT' });
        await kv.kv.purge('d');
        assert.equal((await kv.get('d'))?.operation, 'PURGE');
        const r3 = await kv.create('d', text.encode('three'));
        assert.equal(str((await kv.get('d'))?.value), 'three');
        assert.equal((await kv.get('d'))?.revision, r3);
      });

      it('update: compare-and-set on the revision; a stale revision is refused', async () => {
        const r1 = await kv.create('u', text.encode('1'));
        const r2 = await kv.update('u', text.encode('2'), r1);
        assert.ok(r2 > r1);
        await assert.rejects(kv.update('u', text.encode('3'), r1), casFailure);
        assert.equal(str((await kv.get('u'))?.value), '2');
        await assert.rejects(kv.update('u', text.encode('3'), 0), /version must be greater than 0/);
        // An update of a key that does not exist is refused too.
        await assert.rejects(kv.update('never', text.encode('3'), r2), casFailure);
      });

      it('delete: without a revision always; with one only while the key is still at it', async () => {
        const r1 = await kv.put('k', text.encode('1'));
        const r2 = await kv.put('k', text.encode('2'));
        await assert.rejects(kv.delete('k', { previousSeq: r1 }), casFailure);
        assert.equal((await kv.get('k'))?.operation, 'PUT');
        await kv.delete('k', { previousSeq: r2 });
        const e = await kv.get('k');
        assert.equal(e?.operation, 'DEL');
        assert.equal(e?.value.length, 0);
        await kv.put('k2', text.encode('1'));
        await kv.delete('k2');
        assert.equal((await kv.get('k2'))?.operation, 'DEL');
        // Deleting a deleted key writes another marker (nats.js does the same).
        await kv.delete('k2');
        assert.equal((await kv.get('k2'))?.operation, 'DEL');
      });

      it('many operations in flight at once share the one inbox and all settle', async () => {
        const n = 300;
        const revs = await Promise.all(Array.from({ length: n }, (_, i) => kv.put(`m.${i % 30}`, text.encode(String(i)))));
        assert.equal(new Set(revs).size, n);
        const got = await Promise.all(Array.from({ length: n }, (_, i) => kv.get(`m.${i % 30}`)));
        assert.ok(got.every((e) => e?.operation === 'PUT'));
        assert.equal(mux.waiting, 0);
      });
    });
  }

  it('refuses the keys nats.js refuses, before sending anything', async () => {
    const kv = await openCoreKv(bus, mux, { bucket: bucket() });
    for (const bad of ['.a', 'a.', 'a b', 'a*', 'a.>', '']) {
      assert.throws(() => kv.get(bad), /invalid key/, JSON.stringify(bad));
      await assert.rejects(async () => kv.put(bad, text.encode('x')), /invalid key/, JSON.stringify(bad));
    }
  });

  it('a bucket that does not exist: writes fail at once with no responders, a JSON read with stream not found', async () => {
    const missing = `test_corekv_missing_${randomUUID().slice(0, 8)}`;
    const listingHandle = await openKv(bus, { bucket: bucket() }); // any handle: only get/put/... are used
    const kv = new CoreKv(mux, { bucket: missing, direct: false, kv: listingHandle, timeoutMs: 3000 });
    const started = performance.now();
    await assert.rejects(kv.create('a', text.encode('x')), failedWith('no-responders'));
    await assert.rejects(kv.put('a', text.encode('x')), failedWith('no-responders'));
    await assert.rejects(kv.delete('a'), failedWith('no-responders'));
    assert.ok(performance.now() - started < 1000, 'no responders is not a timeout');
    await assert.rejects(kv.get('a'), (err: unknown) => err instanceof JetStreamApiError && err.code === 10059);
    // The JetStream API takes every direct get, and answers none for a stream it does not have.
    const viaDirect = new CoreKv(mux, { bucket: missing, direct: true, kv: listingHandle });
    await assert.rejects(viaDirect.get('a', { timeoutMs: 150 }), failedWith('timeout'));
  });

  it('direct-get statuses: 404 "message not found" is no entry, any other is a KvStatusError with its code', async () => {
    // A responder stands in for the server's direct-get API of a made-up bucket, answering with
    // the status under test (the server gives 408 to a malformed request, 503 while electing).
    const name = `test_corekv_status_${randomUUID().slice(0, 8)}`;
    let status: [number, string] = [404, 'Message Not Found'];
    const sub = bus.nc.subscribe(`$JS.API.DIRECT.GET.KV_${name}.>`, { callback: (_e, m) => void m.respond(new Uint8Array(0), { headers: headers(...status) }) });
    await bus.nc.flush();
    try {
      const listingHandle = await openKv(bus, { bucket: bucket() });
      const kv = new CoreKv(mux, { bucket: name, direct: true, kv: listingHandle, timeoutMs: 2000 });
      assert.equal(await kv.get('a'), null);
      status = [408, 'Request Timeout'];
      await assert.rejects(kv.get('a'), (err: unknown) => err instanceof KvStatusError && err.status === 408 && /408 request timeout/.test(err.message));
      status = [400, 'Bad Request'];
      await assert.rejects(kv.get('a'), (err: unknown) => err instanceof KvStatusError && err.status === 400);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe('bus RequestMux and CoreKv: a nats-server that goes away', () => {
  let server: NatsServer;
  let bus: Bus | undefined;

  beforeEach(async () => {
    server = new NatsServer(await freePort());
    await server.start();
  });
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
    await server.dispose();
  });

  async function connected(): Promise<Bus> {
    bus = await connectBus({ servers: [server.url], name: 'core-kv-failover', log, reconnectDelayMs: 50, maxReconnectDelayMs: 200, waitOnFirstConnect: false });
    return bus;
  }

  it('requests in flight when the connection drops fail at once; while it is down they time out; after it returns all works', async () => {
    const b = await connected();
    const mux = new RequestMux(b.nc, { sweepMs: 25 });
    const kv = await openCoreKv(b, mux, { bucket: 'failover' });
    await kv.put('k', text.encode('before'));
    // A responder that never answers keeps a request in flight.
    b.nc.subscribe('silent.svc', { callback: () => undefined });
    await b.nc.flush();
    const inFlight = mux.request('silent.svc', new Uint8Array(0), undefined, 30_000, () => 'answered');
    const settled = inFlight.then(
      () => performance.now(),
      (err: unknown) => (failedWith('disconnected')(err), performance.now()),
    );
    const killed = performance.now();
    await server.kill();
    assert.ok((await settled) - killed < 5000, 'failed when the connection dropped, not at its deadline');
    await waitFor(() => !b.connected, 5000, 'disconnect');

    // Nothing answers while the server is down: the deadline (one sweep late at most) ends it.
    const started = performance.now();
    await assert.rejects(kv.get('k', { timeoutMs: 200 }), failedWith('timeout'));
    const took = performance.now() - started;
    assert.ok(took >= 195 && took < 600, `timed out after ${took} ms`);
    assert.equal(mux.waiting, 0);

    await server.start();
    await waitFor(() => b.connected, 10_000, 'reconnect');
    // JetStream may need a moment after the restart; the store survived it.
    await waitFor(async () => str((await kv.get('k', { timeoutMs: 500 }).catch(() => null))?.value) === 'before', 10_000, 'the value after the restart');
    const r = await kv.put('k', text.encode('after'));
    assert.equal((await kv.get('k'))?.revision, r);
    mux.close();
  });

  it('when the connection closes, waiting requests fail at once and later ones are refused at once', async () => {
    const b = await connected();
    const mux = new RequestMux(b.nc);
    b.nc.subscribe('silent.svc', { callback: () => undefined });
    await b.nc.flush();
    const waiting = mux.request('silent.svc', new Uint8Array(0), undefined, 30_000, () => 'answered');
    const rejected = assert.rejects(waiting, failedWith('closed'));
    await b.close();
    await rejected;
    await assert.rejects(mux.request('silent.svc', new Uint8Array(0), undefined, 30_000, () => 'answered'), failedWith('closed'));
    assert.equal(mux.waiting, 0);
  });

  it('a reply decoded by the caller: what decode throws is what the request rejects with', async () => {
    const b = await connected();
    const mux = new RequestMux(b.nc);
    b.nc.subscribe('echo.svc', { callback: (_e, m) => void m.respond(m.data) });
    await b.nc.flush();
    assert.equal(await mux.request('echo.svc', text.encode('hi'), undefined, 2000, (m) => m.string()), 'hi');
    await assert.rejects(
      mux.request('echo.svc', text.encode('hi'), undefined, 2000, () => {
        throw new RangeError('bad reply');
      }),
      RangeError,
    );
    assert.equal(mux.waiting, 0);
    mux.close();
  });
});
