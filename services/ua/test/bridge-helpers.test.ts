import assert from 'node:assert/strict';
import { bridgeCallHeader, bridgeStatus, withoutTag } from '../src/handlers/bridge.js';

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
});
