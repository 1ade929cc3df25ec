import assert from 'node:assert/strict';
import type { BindingSet } from '../src/registrar/binding.js';
import { RegistrationSweep } from '../src/runtime/registration-sweep.js';
import { harness } from './app-harness.js';

const FLOW = { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', id: 'udp0/127.0.0.1:5070' };

function set(aor: string, expiresAt: number): BindingSet {
  const contact = `sip:${aor.replace(/^sip:/, '').split('@')[0] ?? 'x'}@127.0.0.1:5070`;
  return {
    v: 1,
    aor,
    bindings: [{ contact, key: contact, params: [], expiresAt, callId: 'c', cseq: 1, path: [], flow: FLOW, registeredAt: 0, receivedAt: 0 }],
  } as BindingSet;
}

/** A listing store over a map, counting reads. */
function store(initial: Record<string, BindingSet>) {
  const data = new Map<string, { value: BindingSet; revision: number }>(Object.entries(initial).map(([k, v]) => [k, { value: v, revision: 1 }]));
  let observer: ((key: string, set: BindingSet | null) => void) | undefined;
  const s = {
    reads: 0,
    data,
    async keys(limit: number) {
      return [...data.keys()].slice(0, limit);
    },
    async getByKey(key: string) {
      s.reads++;
      return data.get(key);
    },
    async putByKey(key: string, value: BindingSet, revision: number) {
      const cur = data.get(key);
      if (cur?.revision !== revision) return false;
      data.set(key, { value, revision: revision + 1 });
      return true;
    },
    async deleteByKey(key: string, revision: number) {
      if (data.get(key)?.revision !== revision) return false;
      data.delete(key);
      return true;
    },
    observeWrites(fn: (key: string, set: BindingSet | null) => void) {
      observer = fn;
    },
    register(key: string, value: BindingSet) {
      data.set(key, { value, revision: (data.get(key)?.revision ?? 0) + 1 });
      observer?.(key, value);
    },
  };
  return s;
}

describe('registration expiry sweep: bounded reads', () => {
  it('reads each set once, then only the ones due (or known too long); expires them with one event each', async () => {
    const h = harness();
    const now = h.clock.read();
    const st = store({ a: set('sip:a@x', now + 60_000), b: set('sip:b@x', now + 3_600_000) });
    const sweep = new RegistrationSweep({ ctx: () => h.app.ctx, store: st, intervalMs: 10_000, batch: 1000, recheckMs: 300_000 });
    assert.equal(await sweep.sweep(), 0);
    assert.equal(st.reads, 2);
    assert.equal(await sweep.sweep(), 0);
    assert.equal(st.reads, 2, 'nothing due: no reads');
    h.clock.advance(61_000);
    assert.equal(await sweep.sweep(), 1);
    assert.equal(st.reads, 3, 'only a was read');
    assert.equal(st.data.has('a'), false);
    assert.deepEqual(h.regEvents().map((e) => [e.event, e.aor]), [['expired', 'sip:a@x']]);
    h.clock.advance(300_000);
    await sweep.sweep();
    assert.equal(st.reads, 4, 'b re-checked after recheckMs');
  });

  it('learns from the REGISTERs this instance stores, and reads at most maxReads sets per pass', async () => {
    const h = harness();
    const now = h.clock.read();
    const st = store({});
    const sweep = new RegistrationSweep({ ctx: () => h.app.ctx, store: st, intervalMs: 10_000, batch: 1000, maxReads: 2 });
    for (const k of ['k1', 'k2', 'k3']) st.register(k, set(`sip:${k}@x`, now + 120_000));
    await sweep.sweep();
    assert.equal(st.reads, 0, 'the written sets are known');
    h.clock.advance(121_000);
    assert.equal(await sweep.sweep(), 2);
    assert.equal(st.reads, 2);
    assert.equal(await sweep.sweep(), 1);
    assert.equal(st.data.size, 0);
  });
});
