import assert from 'node:assert/strict';
import type { SipRequest } from '@sipnats/sip-codec';
import { aorFromKey, aorKey, MemoryBindingStore } from '../src/registrar/binding-store.js';
import type { BindingSet, Flow } from '../src/registrar/binding.js';
import { isBindingSet } from '../src/registrar/binding.js';
import { locate, sweepExpired } from '../src/registrar/location.js';
import { registerWithStore } from '../src/registrar/register-with-store.js';
import { processRegister } from '../src/registrar/registrar.js';
import type { RegisterOutcome, RegistrarConfig } from '../src/registrar/registrar.js';
import { header, headersNamed, request } from './support/sip.js';

const config: RegistrarConfig = { minExpires: 60, maxExpires: 3600, defaultExpires: 600, maxContacts: 3, domains: ['example.com'] };
const flow: Flow = { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', id: 'udp0/127.0.0.1:5070' };
const T0 = 1_700_000_000_000;

function register(opts: { contacts?: string[]; expires?: number; callId?: string; cseq?: number; to?: string; extra?: string[]; ruri?: string }): SipRequest {
  return request([
    `REGISTER ${opts.ruri ?? 'sip:example.com'} SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport',
    'From: <sip:alice@example.com>;tag=f1',
    `To: ${opts.to ?? '<sip:alice@example.com>'}`,
    `Call-ID: ${opts.callId ?? 'reg-1'}`,
    `CSeq: ${opts.cseq ?? 1} REGISTER`,
    'User-Agent: test-phone',
    ...(opts.contacts ?? []).map((c) => `Contact: ${c}`),
    ...(opts.expires === undefined ? [] : [`Expires: ${opts.expires}`]),
    ...(opts.extra ?? []),
  ]);
}

function run(req: SipRequest, current?: BindingSet, now = T0, authenticatedUser?: string): RegisterOutcome {
  return processRegister(config, { request: req, flow, current, now, toTag: 'tt', ...(authenticatedUser === undefined ? {} : { authenticatedUser }) });
}

function set(outcome: RegisterOutcome): BindingSet {
  assert.ok(outcome.next, 'expected a binding set');
  return outcome.next;
}

describe('registrar: RFC 3261 §10.3', () => {
  it('registers a contact: 200 with the binding and expires, To tag, registered event', () => {
    const out = run(register({ contacts: ['<sip:alice@127.0.0.1:5070>'], expires: 300 }));
    assert.equal(out.response.status, 200);
    assert.equal(out.aor, 'sip:alice@example.com');
    assert.equal(header(out.response.headers, 'Contact'), '<sip:alice@127.0.0.1:5070>;expires=300');
    assert.equal(header(out.response.headers, 'To'), '<sip:alice@example.com>;tag=tt');
    assert.equal(header(out.response.headers, 'Via'), 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport');
    assert.ok(header(out.response.headers, 'Date')?.endsWith('GMT'));
    const b = set(out).bindings[0];
    assert.equal(b?.expiresAt, T0 + 300_000);
    assert.deepEqual(b?.flow, flow);
    assert.equal(b?.userAgent, 'test-phone');
    assert.deepEqual(out.events.map((e) => [e.event, e.contact, e.expires]), [['registered', 'sip:alice@127.0.0.1:5070', 300]]);
    assert.ok(isBindingSet(JSON.parse(JSON.stringify(out.next))));
  });

  it('step 7: contact expires param beats Expires header, default applies without either, max clamps', () => {
    const out = run(register({ contacts: ['<sip:a@1.1.1.1>;expires=120', '<sip:a@2.2.2.2>', '<sip:a@3.3.3.3>;expires=99999'], expires: 200 }));
    assert.deepEqual(headersNamed(out.response.headers, 'Contact'), ['<sip:a@1.1.1.1>;expires=120', '<sip:a@2.2.2.2>;expires=200', '<sip:a@3.3.3.3>;expires=3600']);
    const dflt = run(register({ contacts: ['<sip:a@1.1.1.1>'] }));
    assert.equal(header(dflt.response.headers, 'Contact'), '<sip:a@1.1.1.1>;expires=600');
  });

  it('423 Interval Too Brief with Min-Expires, and nothing changes', () => {
    const out = run(register({ contacts: ['<sip:a@1.1.1.1>;expires=30'] }));
    assert.equal(out.response.status, 423);
    assert.equal(out.response.reason, 'Interval Too Brief');
    assert.equal(header(out.response.headers, 'Min-Expires'), '60');
    assert.equal(out.next, undefined);
  });

  it('refresh keeps one binding and emits refreshed; q and params are kept', () => {
    const first = set(run(register({ contacts: ['<sip:a@1.1.1.1>;q=0.7;+sip.instance="<urn:uuid:abc>";reg-id=1'], expires: 300 })));
    const out = run(register({ contacts: ['<sip:a@1.1.1.1>;q=0.7;+sip.instance="<urn:uuid:abc>";reg-id=1'], expires: 300, cseq: 2 }), first, T0 + 100_000);
    const b = set(out).bindings;
    assert.equal(b.length, 1);
    assert.equal(b[0]?.instanceId, '<urn:uuid:abc>');
    assert.equal(b[0]?.regId, 1);
    assert.equal(b[0]?.registeredAt, T0);
    assert.equal(b[0]?.expiresAt, T0 + 400_000);
    assert.equal(header(out.response.headers, 'Contact'), '<sip:a@1.1.1.1>;+sip.instance="<urn:uuid:abc>";reg-id=1;q=0.7;expires=300');
    assert.deepEqual(out.events.map((e) => e.event), ['refreshed']);
  });

  it('multiple contacts from different Call-IDs accumulate; a query lists them without a write', () => {
    const s1 = set(run(register({ contacts: ['<sip:a@1.1.1.1>'], callId: 'phone1' })));
    const s2 = set(run(register({ contacts: ['<sip:a@2.2.2.2>'], callId: 'phone2' }), s1));
    assert.equal(s2.bindings.length, 2);
    const q = run(register({ callId: 'phone3' }), s2);
    assert.equal(q.result, 'query');
    assert.equal(q.next, undefined);
    assert.equal(headersNamed(q.response.headers, 'Contact').length, 2);
  });

  it('Expires 0 removes one binding (unregistered); removing the last deletes the key', () => {
    const s1 = set(run(register({ contacts: ['<sip:a@1.1.1.1>', '<sip:a@2.2.2.2>'] })));
    const out = run(register({ contacts: ['<sip:a@1.1.1.1>'], expires: 0, cseq: 2 }), s1);
    assert.deepEqual(set(out).bindings.map((b) => b.contact), ['sip:a@2.2.2.2']);
    assert.deepEqual(out.events.map((e) => [e.event, e.expires]), [['unregistered', 0]]);
    const last = run(register({ contacts: ['<sip:a@2.2.2.2>;expires=0'], cseq: 3 }), set(out));
    assert.equal(last.next, null);
    assert.equal(headersNamed(last.response.headers, 'Contact').length, 0);
  });

  it('step 6: `*` with Expires 0 removes every binding', () => {
    const s1 = set(run(register({ contacts: ['<sip:a@1.1.1.1>', '<sip:a@2.2.2.2>'] })));
    const out = run(register({ contacts: ['*'], expires: 0, cseq: 2 }), s1);
    assert.equal(out.response.status, 200);
    assert.equal(out.next, null);
    assert.deepEqual(out.events.map((e) => e.event), ['unregistered', 'unregistered']);
  });

  it('step 6: `*` with Expires other than 0, or without Expires, is 400', () => {
    assert.equal(run(register({ contacts: ['*'], expires: 60 })).response.status, 400);
    assert.equal(run(register({ contacts: ['*'] })).response.status, 400);
  });

  it('step 6/7: same Call-ID with a CSeq not higher is 500 and changes nothing', () => {
    const s1 = set(run(register({ contacts: ['<sip:a@1.1.1.1>'], cseq: 5 })));
    const replay = run(register({ contacts: ['<sip:a@1.1.1.1>'], cseq: 5, expires: 0 }), s1);
    assert.equal(replay.response.status, 500);
    assert.equal(replay.next, undefined);
    assert.equal(run(register({ contacts: ['*'], expires: 0, cseq: 4 }), s1).response.status, 500);
    // A different Call-ID may update regardless of CSeq.
    assert.equal(run(register({ contacts: ['<sip:a@1.1.1.1>'], cseq: 1, callId: 'other' }), s1).response.status, 200);
  });

  it('step 5: the AoR is canonical (params dropped, escapes decoded, host lower-case)', () => {
    const out = run(register({ contacts: ['<sip:a@1.1.1.1>'], to: '<sip:%61lice@EXAMPLE.com;user=phone>' }));
    assert.equal(out.aor, 'sip:alice@example.com');
  });

  it('step 1/5: a foreign domain is 404; step 4: another user\'s AoR is 403', () => {
    assert.equal(run(register({ contacts: ['<sip:a@1.1.1.1>'], ruri: 'sip:other.org' })).response.status, 404);
    assert.equal(run(register({ contacts: ['<sip:a@1.1.1.1>'], to: '<sip:alice@other.org>' })).response.status, 404);
    assert.equal(run(register({ contacts: ['<sip:a@1.1.1.1>'] }), undefined, T0, 'bob').response.status, 403);
    assert.equal(run(register({ contacts: ['<sip:a@1.1.1.1>'] }), undefined, T0, 'alice').response.status, 200);
  });

  it('Require with an unknown extension is 420 with Unsupported', () => {
    const out = run(register({ contacts: ['<sip:a@1.1.1.1>'], extra: ['Require: gruu, path'] }));
    assert.equal(out.response.status, 420);
    assert.equal(header(out.response.headers, 'Unsupported'), 'gruu');
  });

  it('RFC 3327: Path is stored and echoed in the 200 when Supported: path', () => {
    const out = run(register({ contacts: ['<sip:a@1.1.1.1>'], extra: ['Path: <sip:edge1.example.com;lr>', 'Path: <sip:edge2.example.com;lr>', 'Supported: path'] }));
    assert.deepEqual(set(out).bindings[0]?.path, ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>']);
    assert.deepEqual(headersNamed(out.response.headers, 'Path'), ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>']);
    const silent = run(register({ contacts: ['<sip:a@1.1.1.1>'], extra: ['Path: <sip:edge1.example.com;lr>'] }));
    assert.deepEqual(headersNamed(silent.response.headers, 'Path'), []);
  });

  it('more contacts than maxContacts is 403', () => {
    const out = run(register({ contacts: ['<sip:a@1.1.1.1>', '<sip:a@2.2.2.2>', '<sip:a@3.3.3.3>', '<sip:a@4.4.4.4>'] }));
    assert.equal(out.response.status, 403);
    const s = set(run(register({ contacts: ['<sip:a@1.1.1.1>', '<sip:a@2.2.2.2>', '<sip:a@3.3.3.3>'] })));
    assert.equal(run(register({ contacts: ['<sip:a@4.4.4.4>'], callId: 'x' }), s).response.status, 403);
  });

  it('expired bindings drop out with an expired event at the next REGISTER', () => {
    const s1 = set(run(register({ contacts: ['<sip:a@1.1.1.1>;expires=60'] })));
    const out = run(register({ contacts: ['<sip:a@2.2.2.2>'], callId: 'x' }), s1, T0 + 61_000);
    assert.deepEqual(out.events.map((e) => e.event), ['expired', 'registered']);
    assert.deepEqual(set(out).bindings.map((b) => b.contact), ['sip:a@2.2.2.2']);
  });
});

describe('registrar: location and expiry sweep', () => {
  it('locate orders by q (absent = 1) and skips expired bindings', () => {
    const s = set(run(register({ contacts: ['<sip:a@1.1.1.1>;q=0.5', '<sip:a@2.2.2.2>', '<sip:a@3.3.3.3>;q=0.9;expires=60'], extra: ['Path: <sip:edge;lr>'] })));
    assert.deepEqual(locate(s, T0).map((c) => [c.contact, c.q]), [['sip:a@2.2.2.2', 1], ['sip:a@3.3.3.3', 0.9], ['sip:a@1.1.1.1', 0.5]]);
    assert.deepEqual(locate(s, T0)[0]?.path, ['<sip:edge;lr>']);
    assert.equal(locate(s, T0 + 61_000).length, 2);
    assert.deepEqual(locate(undefined, T0), []);
  });

  it('sweepExpired removes expired bindings, reports them, and says when the next expires', () => {
    const s = set(run(register({ contacts: ['<sip:a@1.1.1.1>;expires=60', '<sip:a@2.2.2.2>;expires=120'] })));
    assert.equal(sweepExpired(s, T0 + 1000).next, undefined);
    const mid = sweepExpired(s, T0 + 60_000);
    assert.deepEqual(mid.events.map((e) => [e.event, e.contact]), [['expired', 'sip:a@1.1.1.1']]);
    assert.equal(mid.nextExpiry, T0 + 120_000);
    assert.equal(sweepExpired(s, T0 + 120_000).next, null);
  });
});

describe('registrar: store with compare-and-set', () => {
  it('writes, refreshes and deletes through the store', async () => {
    const store = new MemoryBindingStore();
    const input = (contacts: string[], cseq: number, expires?: number) => ({ request: register({ contacts, cseq, ...(expires === undefined ? {} : { expires }) }), flow, now: T0, toTag: 't' });
    await registerWithStore(store, config, input(['<sip:a@1.1.1.1>'], 1));
    assert.equal((await store.get('sip:alice@example.com'))?.value.bindings.length, 1);
    await registerWithStore(store, config, input(['<sip:a@1.1.1.1>'], 2, 0));
    assert.equal(await store.get('sip:alice@example.com'), undefined);
  });

  it('retries when another instance wrote first', async () => {
    const store = new MemoryBindingStore();
    let raced = false;
    const racing = {
      get: (aor: string) => store.get(aor),
      delete: (aor: string, rev: number) => store.delete(aor, rev),
      put: async (aor: string, value: BindingSet, rev: number | undefined) => {
        if (!raced) {
          raced = true;
          // Another instance registers a second phone between our read and our write.
          const other = processRegister(config, { request: register({ contacts: ['<sip:a@9.9.9.9>'], callId: 'other' }), flow, current: undefined, now: T0, toTag: 'x' });
          assert.ok(other.next);
          await store.put(aor, other.next, undefined);
        }
        return store.put(aor, value, rev);
      },
    };
    const out = await registerWithStore(racing, config, { request: register({ contacts: ['<sip:a@1.1.1.1>'] }), flow, now: T0, toTag: 't' });
    assert.equal(out.response.status, 200);
    assert.equal(headersNamed(out.response.headers, 'Contact').length, 2);
    assert.equal((await store.get('sip:alice@example.com'))?.value.bindings.length, 2);
  });

  it('aorKey is a reversible KV-safe key', () => {
    const key = aorKey('sip:al.ice+1@example.com');
    assert.match(key, /^[-/_=.a-zA-Z0-9]+$/);
    assert.equal(aorFromKey(key), 'sip:al.ice+1@example.com');
  });
});
