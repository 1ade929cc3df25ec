import assert from 'node:assert/strict';
import { backoffDelay } from '../src/connect.js';
import { BUS_ERROR, BusError } from '../src/errors.js';
import { decodeKvToken, encodeKvToken, kvKey, MAX_KV_KEY_LENGTH } from '../src/kv-key.js';

describe('bus: KV keys', () => {
  it('encodes SIP values into legal KV key tokens, reversibly', () => {
    const values = ['a84b4c76e66710@pc33.atlanta.com', 'sip:alice@example.com;transport=tcp', 'tag=1928301774', 'héllo', 'x=y', '%'];
    for (const v of values) {
      const t = encodeKvToken(v);
      assert.match(t, /^[-_=A-Za-z0-9]+$/);
      assert.equal(decodeKvToken(t), v);
    }
    assert.equal(kvKey('dialog', 'abc@host', 'tag.1'), 'dialog.abc=40host.tag=2E1');
  });

  it('refuses empty parts, over-long keys and malformed tokens', () => {
    const isKeyError = (e: unknown) => e instanceof BusError && e.code === BUS_ERROR.kvKey;
    assert.throws(() => kvKey(), isKeyError);
    assert.throws(() => kvKey('a', ''), isKeyError);
    assert.throws(() => kvKey('x'.repeat(MAX_KV_KEY_LENGTH + 1)), isKeyError);
    assert.throws(() => decodeKvToken('a=4'), isKeyError);
    assert.throws(() => decodeKvToken('a=zz'), isKeyError);
    assert.throws(() => decodeKvToken('=FF'), isKeyError);
    assert.throws(() => decodeKvToken('=41'), isKeyError, 'an escaped safe byte: two tokens would read as one value');
    assert.throws(() => encodeKvToken('a\uD800'), isKeyError, 'a lone surrogate would become U+FFFD');
  });
});

describe('bus: reconnect backoff', () => {
  it('doubles from the base up to the cap, with jitter of ±50%', () => {
    assert.equal(backoffDelay(0, 100, 5000, () => 0.5), 100);
    assert.equal(backoffDelay(3, 100, 5000, () => 0.5), 800);
    assert.equal(backoffDelay(30, 100, 5000, () => 0.5), 5000);
    assert.equal(backoffDelay(1, 100, 5000, () => 0), 100);
    assert.equal(backoffDelay(1, 100, 5000, () => 0.999999), 300);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(i, 250, 5000);
      assert.ok(d >= 1 && d <= 7500, String(d));
    }
  });
});
