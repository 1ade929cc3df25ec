import assert from 'node:assert/strict';
import { JetStreamApiError } from '@nats-io/jetstream';
import { NatsRequestError, KvStatusError } from '@sipnats/bus';
import { isUnavailable } from '../src/errors.js';
import { KvRecords, type KvRecordsBucket } from '../src/store/kv-records.js';
import { isTransientKvError, retryTransient } from '../src/store/retry.js';
import { LocalRetries, MAX_ATTEMPTS } from '../src/runtime/timer-retry.js';

interface Row {
  value: Uint8Array;
  revision: number;
}

const CAS_FAILED = (): JetStreamApiError => new JetStreamApiError({ code: 400, err_code: 10071, description: 'wrong last sequence: 3' });
/** As nats.js' jsbaseclient_api throws it (its class is not exported). */
const NOT_ENABLED = (): Error => Object.assign(new Error('jetstream is not enabled'), { name: 'JetStreamNotEnabled' });
const noResponders = (): Error => Object.assign(new Error('no responders: $JS.API.STREAM.MSG.GET.KV_sipnats_calls'), { name: 'NoRespondersError' });

interface CallOptions {
  readonly timeoutMs?: number;
}

/**
 * A KV bucket in memory whose operations fail as scripted: each entry of `faults` is used by one
 * call (an Error is thrown, 'hang' never answers, 'land-and-hang' writes and never answers). Like
 * CoreKv, an operation without an answer fails when its timeout passes (the request mux's sweep).
 */
class FakeKv {
  readonly rows = new Map<string, Row>();
  readonly faults: Array<Error | 'hang' | 'land-and-hang' | undefined> = [];
  calls = 0;
  #rev = 0;

  #fault(): Error | 'hang' | 'land-and-hang' | undefined {
    this.calls += 1;
    return this.faults.shift();
  }

  async #write(fault: Error | 'hang' | 'land-and-hang' | undefined, o: CallOptions | undefined, apply: () => number): Promise<number> {
    if (fault instanceof Error) throw fault;
    if (fault === 'hang') return noAnswer(o);
    const rev = apply();
    if (fault === 'land-and-hang') return noAnswer(o);
    return rev;
  }

  async create(key: string, value: Uint8Array, o?: CallOptions): Promise<number> {
    const fault = this.#fault();
    return this.#write(fault, o, () => {
      if (this.rows.has(key)) throw CAS_FAILED();
      this.rows.set(key, { value, revision: ++this.#rev });
      return this.#rev;
    });
  }

  async update(key: string, value: Uint8Array, revision: number, o?: CallOptions): Promise<number> {
    const fault = this.#fault();
    return this.#write(fault, o, () => {
      if (this.rows.get(key)?.revision !== revision) throw CAS_FAILED();
      this.rows.set(key, { value, revision: ++this.#rev });
      return this.#rev;
    });
  }

  async put(key: string, value: Uint8Array, o?: CallOptions): Promise<number> {
    const fault = this.#fault();
    return this.#write(fault, o, () => {
      this.rows.set(key, { value, revision: ++this.#rev });
      return this.#rev;
    });
  }

  async get(key: string, o?: CallOptions): Promise<{ value: Uint8Array; revision: number; operation: 'PUT' } | null> {
    const fault = this.#fault();
    if (fault instanceof Error) throw fault;
    if (fault !== undefined) return noAnswer(o);
    const row = this.rows.get(key);
    return row === undefined ? null : { ...row, operation: 'PUT' };
  }

  async delete(key: string, o?: CallOptions): Promise<void> {
    const fault = this.#fault();
    await this.#write(fault, o, () => (this.rows.delete(key) ? 0 : 0));
  }
}

/** No reply: fails as CoreKv's request mux fails it when the deadline has passed. */
function noAnswer(o: CallOptions | undefined): Promise<never> {
  const ms = o?.timeoutMs;
  if (ms === undefined) throw new Error('a KvRecords operation without a timeout');
  return new Promise((_, reject) => setTimeout(() => reject(new NatsRequestError('timeout', '$KV.test.k', 'no reply within the deadline')), ms));
}

function records(kv: FakeKv, timeoutMs = 1500): KvRecords<{ n: number }> {
  const guard = (v: unknown): v is { n: number } => typeof v === 'object' && v !== null && typeof (v as { n?: unknown }).n === 'number';
  return new KvRecords({ kv: kv as unknown as KvRecordsBucket, bucket: 'test', guard, timeoutMs });
}

describe('ua store: KV operations retried through a NATS failover', () => {
  it('classifies failover errors as transient and others (CAS, bad input) as final', () => {
    assert.equal(isTransientKvError(NOT_ENABLED()), true);
    assert.equal(isTransientKvError(noResponders()), true);
    assert.equal(isTransientKvError(Object.assign(new Error('TIMEOUT'), { name: 'TimeoutError' })), true);
    assert.equal(isTransientKvError(new Error('wrapped', { cause: NOT_ENABLED() })), true);
    assert.equal(isTransientKvError(new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' })), true);
    // CoreKv's request mux: every way a request goes unanswered; a direct-get 503/408 status.
    for (const reason of ['no-responders', 'timeout', 'disconnected', 'closed'] as const) {
      assert.equal(isTransientKvError(new NatsRequestError(reason, '$KV.b.k', 'x')), true, reason);
    }
    assert.equal(isTransientKvError(new KvStatusError(503, '')), true);
    assert.equal(isTransientKvError(new KvStatusError(408, 'request timeout')), true);
    assert.equal(isTransientKvError(new KvStatusError(400, 'bad request')), false);
    assert.equal(isTransientKvError(CAS_FAILED()), false);
    assert.equal(isTransientKvError(new TypeError('bad key')), false);
    assert.equal(isTransientKvError('text'), false);
  });

  it('retryTransient backs off (50, 100, 200 ms...) and gives up at its budget with the last error', async () => {
    let t = 0;
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      waits.push(ms);
      t += ms;
    };
    let n = 0;
    await assert.rejects(
      retryTransient(
        async () => {
          n += 1;
          throw NOT_ENABLED();
        },
        { budgetMs: 1000, now: () => t, sleep },
      ),
      /jetstream is not enabled/,
    );
    assert.deepEqual(waits, [50, 100, 200, 400]);
    assert.equal(n, 5);
    // A final error is thrown at once.
    n = 0;
    await assert.rejects(retryTransient(async () => (n++, Promise.reject(new TypeError('bug'))), { budgetMs: 1000, now: () => t, sleep }), TypeError);
    assert.equal(n, 1);
  });

  it('a create that meets "jetstream is not enabled" and no responders is retried and succeeds within SIPNATS_KV_TIMEOUT', async () => {
    const kv = new FakeKv();
    kv.faults.push(NOT_ENABLED(), noResponders());
    const r = records(kv);
    const rev = await r.create('dlg.a', { n: 1 });
    assert.equal(typeof rev, 'number');
    assert.equal(kv.calls, 3);
    assert.deepEqual((await r.get('dlg.a'))?.value, { n: 1 });
  });

  it('an attempt without an answer is abandoned and sent again; a create or update that landed anyway is recognised as ours', async () => {
    const kv = new FakeKv();
    kv.faults.push('land-and-hang');
    const r = records(kv, 900);
    const rev = await r.create('call.x', { n: 1 });
    assert.equal(typeof rev, 'number', 'the landed write is ours, not "exists"');
    kv.faults.push('land-and-hang');
    const rev2 = await r.update('call.x', { n: 2 }, rev as number);
    assert.equal(typeof rev2, 'number');
    assert.deepEqual((await r.get('call.x'))?.value, { n: 2 });
    // Someone else's value is still a conflict.
    assert.equal(await r.create('call.x', { n: 3 }), undefined);
    assert.equal(await r.update('call.x', { n: 3 }, 1), undefined);
  });

  it('after the timeout the operation fails as store-unavailable (the request then gets 503 with Retry-After)', async () => {
    const kv = new FakeKv();
    for (let i = 0; i < 100; i++) kv.faults.push(NOT_ENABLED());
    const r = records(kv, 300);
    const started = Date.now();
    await assert.rejects(r.put('k', { n: 1 }), (err: unknown) => isUnavailable(err) && /jetstream is not enabled/.test((err as Error).message));
    assert.ok(Date.now() - started < 600);
    assert.ok(kv.calls > 2);
  });

  it('call timers failing locally are retried with back-off, a bounded number of times, for a bounded number of calls', () => {
    const r = new LocalRetries();
    assert.deepEqual([r.failed('c', 10), r.failed('c', 10), r.failed('c', 10), r.failed('c', 10)], [200, 400, 800, 1000]);
    for (let i = 4; i < MAX_ATTEMPTS; i++) assert.equal(r.failed('c', 10), 1000);
    assert.equal(r.failed('c', 10), undefined, 'gives up after MAX_ATTEMPTS');
    assert.equal(r.size, 0);
    r.failed('a', 1);
    assert.equal(r.failed('b', 1), undefined, 'table full: the sweep alone');
    r.succeeded('a');
    assert.equal(r.size, 0);
  });
});
