import assert from 'node:assert/strict';
import type { SipRequest } from '@sipnats/sip-codec';
import { MemoryBindingStore } from '../src/registrar/binding-store.js';
import type { BindingSet, Flow } from '../src/registrar/binding.js';
import { indexFlow, MAX_FLOW_AORS, MAX_FLOW_BYTES, MemoryFlowIndexStore, withAor, type FlowAors, type FlowIndexStore, type FlowKey } from '../src/registrar/flow-index.js';
import { registerWithStore, RegistrarConflictError, type FlowIndexing } from '../src/registrar/register-with-store.js';
import type { RegistrarConfig } from '../src/registrar/registrar.js';
import { unbindFlow, unbindWithStore } from '../src/registrar/unbind.js';
import { flowReindexAfterMs, flowIndexTtlMs, KvFlowIndexStore } from '../src/store/kv-flow-index.js';
import { request } from './support/sip.js';

const config: RegistrarConfig = { minExpires: 60, maxExpires: 3600, defaultExpires: 600, maxContacts: 5 };
const T0 = 1_700_000_000_000;
const AOR = 'sip:alice@example.com';
const ws1: Flow = { instance: 't2', transport: 'ws', local: '127.0.0.1:8080', remote: '127.0.0.1:40001', id: 'ws0-aa-1' };
const ws2: Flow = { ...ws1, remote: '127.0.0.1:40002', id: 'ws0-aa-2' };
const udp: Flow = { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', id: 'udp0/127.0.0.1:5070' };

function register(o: { contact?: string; cseq?: number; callId?: string; expires?: number; user?: string } = {}): SipRequest {
  const user = o.user ?? 'alice';
  return request([
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK-1',
    `From: <sip:${user}@example.com>;tag=f1`,
    `To: <sip:${user}@example.com>`,
    `Call-ID: ${o.callId ?? 'reg-1'}`,
    `CSeq: ${o.cseq ?? 1} REGISTER`,
    'User-Agent: browser-phone',
    `Contact: <${o.contact ?? 'sip:alice@df7jal23ls0d.invalid;transport=ws'}>`,
    `Expires: ${o.expires ?? 600}`,
  ]);
}

/** A flow index store that records the order of (successful) writes against the binding store. */
function recording(log: string[]): { flows: MemoryFlowIndexStore; bindings: MemoryBindingStore; index: FlowIndexing } {
  const flows = new MemoryFlowIndexStore();
  const bindings = new MemoryBindingStore();
  const put = flows.put.bind(flows);
  flows.put = async (flow, value, rev) => {
    const ok = await put(flow, value, rev);
    if (ok) log.push(`index ${flow.id} ${value.aors.join(',')}`);
    return ok;
  };
  const bput = bindings.put.bind(bindings);
  bindings.put = async (aor, value, rev) => {
    const ok = await bput(aor, value, rev);
    if (ok) log.push(`bindings ${aor}`);
    return ok;
  };
  return { flows, bindings, index: { store: flows, reindexAfterMs: 3_660_000 } };
}

describe('registrar: index by connection flow', () => {
  it('withAor adds once, and refuses beyond MAX_FLOW_AORS entries or MAX_FLOW_BYTES of text', () => {
    assert.deepEqual(withAor([], AOR), [AOR]);
    const one = [AOR];
    assert.equal(withAor(one, AOR), one, 'already there: unchanged');
    const many = Array.from({ length: MAX_FLOW_AORS }, (_, i) => `sip:u${i}@example.com`);
    assert.equal(withAor(many, AOR), undefined);
    assert.deepEqual(withAor(many.slice(1), AOR)?.length, MAX_FLOW_AORS);
    const long = [`sip:${'x'.repeat(MAX_FLOW_BYTES - 20)}@example.com`];
    assert.equal(withAor(long, AOR), undefined);
  });

  it('indexFlow creates the entry, appends, says full, and retries when another writer won', async () => {
    const store = new MemoryFlowIndexStore();
    assert.equal(await indexFlow(store, ws1, AOR), 'indexed');
    assert.equal(await indexFlow(store, ws1, 'sip:bob@example.com'), 'indexed');
    assert.deepEqual((await store.get(ws1))?.value.aors, [AOR, 'sip:bob@example.com']);
    const rev = (await store.get(ws1))?.revision;
    assert.equal(await indexFlow(store, ws1, AOR), 'indexed');
    assert.notEqual((await store.get(ws1))?.revision, rev, 'written again (renews the age of a KV entry)');

    let raced = 0;
    const racing: FlowIndexStore = {
      get: (f) => store.get(f),
      delete: (f, r) => store.delete(f, r),
      put: async (f: FlowKey, value: FlowAors, r: number | undefined) => {
        if (raced++ === 0) await store.put(f, { v: 1, aors: ['sip:carol@example.com'] }, undefined);
        return store.put(f, value, r);
      },
    };
    assert.equal(await indexFlow(racing, ws2, AOR), 'indexed');
    assert.deepEqual((await store.get(ws2))?.value.aors, ['sip:carol@example.com', AOR], 'the other writer\'s AoR kept');
    const losing: FlowIndexStore = { get: async () => undefined, put: async () => false, delete: async () => false };
    assert.equal(await indexFlow(losing, ws1, AOR, 3), 'contended');

    const full = new MemoryFlowIndexStore();
    await full.put(ws1, { v: 1, aors: Array.from({ length: MAX_FLOW_AORS }, (_, i) => `sip:u${i}@example.com`) }, undefined);
    assert.equal(await indexFlow(full, ws1, AOR), 'full');
  });

  it('a REGISTER on a connection indexes the AoR under its flow before the binding is written, and stamps flowIndexedAt', async () => {
    const log: string[] = [];
    const { flows, bindings, index } = recording(log);
    const out = await registerWithStore(bindings, config, { request: register(), flow: ws1, now: T0, toTag: 't' }, { flows: index });
    assert.equal(out.response.status, 200);
    assert.deepEqual(log, [`index ${ws1.id} ${AOR}`, `bindings ${AOR}`]);
    assert.deepEqual((await flows.get(ws1))?.value.aors, [AOR]);
    assert.equal((await bindings.get(AOR))?.value.bindings[0]?.flowIndexedAt, T0);
    assert.equal(out.next?.bindings[0]?.flowIndexedAt, T0, 'the outcome shows what was stored');
  });

  it('a refresh on the same connection leaves the index alone until reindexAfterMs; then the entry is written again', async () => {
    const log: string[] = [];
    const { bindings, index } = recording(log);
    await registerWithStore(bindings, config, { request: register({ cseq: 1 }), flow: ws1, now: T0, toTag: 't' }, { flows: index });
    log.length = 0;
    await registerWithStore(bindings, config, { request: register({ cseq: 2 }), flow: ws1, now: T0 + 300_000, toTag: 't' }, { flows: index });
    assert.deepEqual(log, [`bindings ${AOR}`]);
    assert.equal((await bindings.get(AOR))?.value.bindings[0]?.flowIndexedAt, T0);
    log.length = 0;
    const later = T0 + index.reindexAfterMs;
    await registerWithStore(bindings, config, { request: register({ cseq: 3 }), flow: ws1, now: later, toTag: 't' }, { flows: index });
    assert.deepEqual(log, [`index ${ws1.id} ${AOR}`, `bindings ${AOR}`]);
    assert.equal((await bindings.get(AOR))?.value.bindings[0]?.flowIndexedAt, later);
  });

  it('the same Contact registered again on a new connection is indexed under the new flow', async () => {
    const log: string[] = [];
    const { flows, bindings, index } = recording(log);
    await registerWithStore(bindings, config, { request: register({ cseq: 1 }), flow: ws1, now: T0, toTag: 't' }, { flows: index });
    await registerWithStore(bindings, config, { request: register({ cseq: 2 }), flow: ws2, now: T0 + 1000, toTag: 't' }, { flows: index });
    assert.deepEqual((await flows.get(ws2))?.value.aors, [AOR]);
    const b = (await bindings.get(AOR))?.value.bindings;
    assert.equal(b?.length, 1);
    assert.equal(b?.[0]?.flow.id, ws2.id);
    assert.equal(b?.[0]?.flowIndexedAt, T0 + 1000);
  });

  it('UDP registrations are never indexed; a full or contended index still stores the binding and says so (full: not retried on every refresh)', async () => {
    const log: string[] = [];
    const { flows, bindings, index } = recording(log);
    await registerWithStore(bindings, config, { request: register({ contact: 'sip:alice@127.0.0.1:5070' }), flow: udp, now: T0, toTag: 't' }, { flows: index });
    assert.deepEqual(log, [`bindings ${AOR}`]);
    assert.equal(flows.size, 0);

    await flows.put(ws1, { v: 1, aors: Array.from({ length: MAX_FLOW_AORS }, (_, i) => `sip:u${i}@example.com`) }, undefined);
    const told: string[] = [];
    const out = await registerWithStore(bindings, config, { request: register({ user: 'bob', contact: 'sip:bob@x.invalid;transport=ws' }), flow: ws1, now: T0, toTag: 't' }, {
      flows: { ...index, onUnindexed: (aor, why) => told.push(`${aor} ${why}`) },
    });
    assert.equal(out.response.status, 200);
    assert.deepEqual(told, ['sip:bob@example.com full']);
    assert.deepEqual((await flows.get(ws1))?.value.aors.includes('sip:bob@example.com'), false);
    assert.equal((await bindings.get('sip:bob@example.com'))?.value.bindings[0]?.flowIndexedAt, T0, 'not tried again on every refresh');
    await registerWithStore(bindings, config, { request: register({ user: 'bob', contact: 'sip:bob@x.invalid;transport=ws', cseq: 2 }), flow: ws1, now: T0 + 1000, toTag: 't' }, {
      flows: { ...index, onUnindexed: (aor, why) => told.push(`${aor} ${why}`) },
    });
    assert.equal(told.length, 1);

    const contended: FlowIndexing = { store: { get: async () => undefined, put: async () => false, delete: async () => false }, reindexAfterMs: 1000, onUnindexed: (aor, why) => told.push(`${aor} ${why}`) };
    await registerWithStore(bindings, config, { request: register({ user: 'carol', contact: 'sip:carol@x.invalid;transport=ws' }), flow: ws1, now: T0, toTag: 't' }, { flows: contended });
    assert.equal(told.at(-1), 'sip:carol@example.com contended');
    assert.equal((await bindings.get('sip:carol@example.com'))?.value.bindings[0]?.flowIndexedAt, undefined, 'tried again on the next REGISTER');
  });

  it('flow index bucket age and the re-index interval (an entry outlives every binding it indexes)', () => {
    assert.equal(flowIndexTtlMs(3600), 7_320_000);
    assert.equal(flowReindexAfterMs(flowIndexTtlMs(3600), 3600), 3_660_000);
    // Written at t, refreshed without a write until t + reindex, that binding expires by
    // t + reindex + maxExpires: still within the entry's age.
    assert.ok(flowReindexAfterMs(flowIndexTtlMs(3600), 3600) + 3_600_000 < flowIndexTtlMs(3600));
    assert.equal(flowReindexAfterMs(0, 3600), Number.POSITIVE_INFINITY, 'no max age: an entry never expires');
    assert.equal(flowReindexAfterMs(1_000_000, 3600), 0, 'a bucket made shorter than registrations: every REGISTER writes');
    assert.equal(KvFlowIndexStore.key(ws1), 't2.ws0-aa-1');
    assert.equal(KvFlowIndexStore.key({ instance: 'pod-1.example', id: 'ws0-aa-1' }), 'pod-1=2Eexample.ws0-aa-1');
    assert.equal(KvFlowIndexStore.key({ instance: 't2', id: '.'.repeat(400) }), undefined, 'an id that cannot be a key is never looked up');
  });
});

describe('registrar: removing the bindings of a gone flow', () => {
  const set = (): BindingSet => ({
    v: 1,
    aor: AOR,
    bindings: [
      { contact: 'sip:a@x.invalid;transport=ws', key: 'k1', params: [], expiresAt: T0 + 600_000, callId: 'c1', cseq: 1, path: [], flow: ws1, userAgent: 'browser', registeredAt: T0, receivedAt: T0 },
      { contact: 'sip:b@y.invalid;transport=ws', key: 'k2', params: [], expiresAt: T0 + 600_000, callId: 'c2', cseq: 1, path: [], flow: ws1, registeredAt: T0, receivedAt: T0 },
      { contact: 'sip:c@z.invalid;transport=ws', key: 'k3', params: [], expiresAt: T0 + 600_000, callId: 'c3', cseq: 1, path: [], flow: ws2, registeredAt: T0, receivedAt: T0 },
    ],
  });

  it('every binding on the flow goes (unregistered with the reason); others stay; nothing on it → no write', () => {
    const out = unbindFlow(set(), { flow: ws1 }, 'flow closed (peer)');
    assert.deepEqual(out.next?.bindings.map((b) => b.key), ['k3']);
    assert.deepEqual(
      out.events.map((e) => [e.event, e.contact, e.expires, e.reason, e.flow?.id]),
      [
        ['unregistered', 'sip:a@x.invalid;transport=ws', 0, 'flow closed (peer)', ws1.id],
        ['unregistered', 'sip:b@y.invalid;transport=ws', 0, 'flow closed (peer)', ws1.id],
      ],
    );
    assert.equal(out.events[0]?.userAgent, 'browser');
    assert.equal(unbindFlow(set(), { flow: { instance: 't9', id: ws1.id } }, 'x').next, undefined, 'same id, other instance: not ours');
    assert.equal(unbindFlow(set(), { flow: { instance: 't2', id: 'ws0-aa-9' } }, 'x').next, undefined);
  });

  it('a 430 names one binding: only that Contact on that flow goes; the last one deletes the set', () => {
    const out = unbindFlow(set(), { flow: ws1, contact: 'sip:b@y.invalid;transport=ws' }, 'flow failed (430)');
    assert.deepEqual(out.next?.bindings.map((b) => b.key), ['k1', 'k3']);
    assert.equal(unbindFlow(set(), { flow: ws2, contact: 'sip:b@y.invalid;transport=ws' }, 'x').next, undefined, 'that Contact moved to another flow: kept');
    const only = { ...set(), bindings: set().bindings.slice(2) };
    assert.equal(unbindFlow(only, { flow: ws2 }, 'x').next, null);
  });

  it('through the store: CAS retried when a REGISTER wrote meanwhile, idempotent, and a conflict error when it never wins', async () => {
    const store = new MemoryBindingStore();
    await store.put(AOR, set(), undefined);
    let raced = false;
    const racing = {
      get: (aor: string) => store.get(aor),
      delete: (aor: string, rev: number) => store.delete(aor, rev),
      put: async (aor: string, value: BindingSet, rev: number | undefined) => {
        if (!raced) {
          raced = true;
          const cur = await store.get(aor);
          assert.ok(cur);
          await store.put(aor, { ...cur.value, bindings: cur.value.bindings.slice(1) }, cur.revision);
        }
        return store.put(aor, value, rev);
      },
    };
    const events = await unbindWithStore(racing, AOR, { flow: ws1 }, 'flow closed (idle)');
    assert.deepEqual(events.map((e) => e.contact), ['sip:b@y.invalid;transport=ws'], 'only what this write removed');
    assert.deepEqual((await store.get(AOR))?.value.bindings.map((b) => b.key), ['k3']);
    assert.deepEqual(await unbindWithStore(store, AOR, { flow: ws1 }, 'again'), []);
    assert.deepEqual(await unbindWithStore(store, 'sip:nobody@example.com', { flow: ws1 }, 'x'), []);
    await unbindWithStore(store, AOR, { flow: ws2 }, 'last');
    assert.equal(await store.get(AOR), undefined, 'nothing left: the key is deleted');

    const losing = { get: async () => ({ value: set(), revision: 1 }), put: async () => false, delete: async () => false };
    await assert.rejects(() => unbindWithStore(losing, AOR, { flow: ws1 }, 'x', 3), RegistrarConflictError);
  });
});
