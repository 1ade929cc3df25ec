import assert from 'node:assert/strict';
import { isToken } from './helpers.js';
import { BRANCH_PREFIX, TokenCodec, TokenFault } from '../src/routing/token.js';

describe('routing tokens (HMAC-SHA-256 over instance and flow)', function () {
  const codec = new TokenCodec('a-shared-secret-of-enough-length');
  const owner = { instance: 'edge.a-1', flow: 'udp0/[2001:db8::1]:5060' };

  it('a branch round-trips the owner, is a legal SIP token and starts with the RFC 3261 cookie', function () {
    const b = codec.branch(owner);
    assert.ok(b.startsWith('z9hG4bK') && b.startsWith(BRANCH_PREFIX));
    assert.ok(isToken(b), b);
    assert.deepEqual(codec.verifyBranch(b), { ok: true, owner });
    assert.notEqual(codec.branch(owner), b, 'each branch is unique');
  });

  it('refuses a tampered branch (instance swapped, MAC kept)', function () {
    const b = codec.branch(owner);
    const parts = b.slice(BRANCH_PREFIX.length).split('.');
    parts[0] = 'edge%2Eb-1';
    assert.deepEqual(codec.verifyBranch(BRANCH_PREFIX + parts.join('.')), { ok: false, fault: TokenFault.badMac });
    const flipped = b.slice(0, -1) + (b.endsWith('A') ? 'B' : 'A');
    assert.deepEqual(codec.verifyBranch(flipped), { ok: false, fault: TokenFault.badMac });
  });

  it('refuses a branch made with another secret', function () {
    const other = new TokenCodec('another-secret-of-enough-length!');
    assert.deepEqual(codec.verifyBranch(other.branch(owner)), { ok: false, fault: TokenFault.badMac });
  });

  it('tells foreign and malformed branches apart', function () {
    assert.deepEqual(codec.verifyBranch('z9hG4bK776asdhds'), { ok: false, fault: TokenFault.foreign });
    assert.deepEqual(codec.verifyBranch(undefined), { ok: false, fault: TokenFault.foreign });
    assert.deepEqual(codec.verifyBranch(`${BRANCH_PREFIX}a.b`), { ok: false, fault: TokenFault.malformed });
  });

  it('a flow token is deterministic, verifies, and names the instance that wrote it', function () {
    const t = codec.flowToken(owner);
    assert.equal(codec.flowToken(owner), t);
    assert.ok(isToken(t));
    const r = codec.verifyFlowToken(t);
    assert.ok(r.ok);
    assert.equal(r.owner.instance, 'edge.a-1');
    assert.notEqual(r.owner.instance, 'edge.b-1', 'wrong instance is visible to the caller');
    assert.deepEqual(codec.verifyFlowToken(t.replace('edge%2Ea-1', 'edge%2Eb-1')), { ok: false, fault: TokenFault.badMac });
    assert.deepEqual(codec.verifyFlowToken('garbage'), { ok: false, fault: TokenFault.malformed });
  });

  it('a flow token echoed with its escapes decoded (RFC 3261 §19.1.4, as sofia-sip does) still verifies', function () {
    const udp = { instance: 'edge.a-1', flow: 'udp0/127.0.0.1:43707' };
    const t = codec.flowToken(udp);
    assert.match(t, /%2F127%2E0%2E0%2E1%3A43707/);
    for (const echoed of [decodeURIComponent(t), t.replace(/%2F/g, '/').replace(/%3A/g, ':'), t.replace('%2F', '%2f')]) {
      const r = codec.verifyFlowToken(echoed);
      assert.ok(r.ok, echoed);
      assert.deepEqual(r.owner, udp);
    }
    const tampered = decodeURIComponent(t).replace('43707', '43708');
    assert.deepEqual(codec.verifyFlowToken(tampered), { ok: false, fault: TokenFault.badMac });
    assert.deepEqual(codec.verifyFlowToken('a.b%zz.c'), { ok: false, fault: TokenFault.badMac });
    const other = new TokenCodec('another-secret-of-enough-length!');
    assert.deepEqual(codec.verifyFlowToken(decodeURIComponent(other.flowToken(udp))).ok, false);
  });

  it('rejects a secret shorter than 16 bytes', function () {
    assert.throws(() => new TokenCodec('short'), RangeError);
  });
});
