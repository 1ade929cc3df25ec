import assert from 'node:assert/strict';
import { bridgeCallHeader, bridgeStatus, withoutTag } from '../src/handlers/bridge.js';
import { refusalStatus } from '../src/handlers/bridge-refusal.js';
import { legMaxForwards } from '../src/handlers/bridge-hops.js';
import { isCallsValue } from '../src/store/call-store.js';

describe('bridge helpers', () => {
  it('withoutTag keeps the display name and URI, drops the tag and other header parameters', () => {
    assert.equal(withoutTag('"Alice" <sip:alice@example.com>;tag=abc'), '"Alice" <sip:alice@example.com>');
    assert.equal(withoutTag('<sip:bob@example.com;transport=udp>;tag=x'), '<sip:bob@example.com;transport=udp>');
    assert.equal(withoutTag('sip:carol@example.com'), '<sip:carol@example.com>');
  });

  it('bridgeCallHeader: the legs may carry the bridged call id in X-Sipnats-Call, nothing else', () => {
    assert.deepEqual(bridgeCallHeader({ call: 'c1' }), { ok: true, value: undefined });
    assert.deepEqual(bridgeCallHeader({ call: 'c1', headers: { 'X-Tenant': 'acme' } }), { ok: true, value: undefined });
    assert.deepEqual(bridgeCallHeader({ call: 'c1', headers: { 'X-Sipnats-Call': 'c1' } }), { ok: true, value: 'c1' });
    assert.deepEqual(bridgeCallHeader({ call: 'c1', headers: { 'x-sipnats-call': 'c1' } }), { ok: true, value: 'c1' });
    const other = bridgeCallHeader({ call: 'c1', headers: { 'X-Sipnats-Call': 'c2' } });
    assert.ok(!other.ok);
    assert.match(other.error, /may only name the bridged call \(c1\)/);
    assert.ok(!bridgeCallHeader({ call: 'c1', headers: { 'X-Sipnats-Call': 'c1', 'x-sipnats-call': 'c1' } }).ok, 'twice');
  });

  it('bridgeStatus: busy first, then the lowest real failure, else 480', () => {
    assert.equal(bridgeStatus([404, 486, 503]), 486);
    assert.equal(bridgeStatus([603, 404]), 404);
    assert.equal(bridgeStatus([600]), 486);
    assert.equal(bridgeStatus([487, 408]), 480);
    assert.equal(bridgeStatus([]), 480);
  });

  it('bridgeStatus: a failed flow (430, RFC 5626 §11.5) never reaches the caller: 480, or what another branch said', () => {
    assert.equal(bridgeStatus([430]), 480);
    assert.equal(bridgeStatus([430, 430]), 480);
    assert.equal(bridgeStatus([430, 404]), 404);
    assert.equal(bridgeStatus([430, 486]), 486);
    assert.equal(bridgeStatus([430, 408, 487]), 480);
  });

  it('legMaxForwards: the inbound Max-Forwards minus one, at most 70; 70 for an entry without one (stored before the field)', () => {
    assert.equal(legMaxForwards(70), 69);
    assert.equal(legMaxForwards(10), 9);
    assert.equal(legMaxForwards(1), 0);
    assert.equal(legMaxForwards(255), 70);
    assert.equal(legMaxForwards(undefined), 70);
  });

  it('refusalStatus: a relayed offer refused with a final status about the callee reaches its sender as it is; hop-only ones as 488', () => {
    for (const s of [403, 415, 488, 500, 503, 603, 606]) assert.equal(refusalStatus(s), s);
    for (const s of [401, 407, 408, 420, 421, 422, 423, 481, 482, 483, 491, 302, 200, 0, 700, 488.5]) assert.equal(refusalStatus(s), 488, String(s));
  });

  it('call entries: maxForwards is optional (entries written before it stay valid) and, when present, 0..255', () => {
    const entry = {
      v: 1,
      dialog: { v: 1, call: 'c1' },
      flow: { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', id: 'f' },
      timers: {},
    };
    assert.equal(isCallsValue(entry), true);
    assert.equal(isCallsValue({ ...entry, maxForwards: 70 }), true);
    assert.equal(isCallsValue({ ...entry, maxForwards: 0 }), true);
    for (const bad of [-1, 256, 1.5, '70', null]) assert.equal(isCallsValue({ ...entry, maxForwards: bad }), false, String(bad));
  });
});
