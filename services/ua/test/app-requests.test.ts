import assert from 'node:assert/strict';
import { buildAuthorization } from '../src/auth/digest-client.js';
import { parseAuthValue } from '@sipnats/sip-codec';
import { envelope, harness, sipText } from './app-harness.js';
import { invite, register, req } from './app-sip.js';

describe('ua app: out-of-dialog requests', () => {
  it('OPTIONS gets 200 with Allow, Accept and Supported on the envelope\'s transport and txn', async () => {
    const h = harness();
    const e = envelope(req('OPTIONS', { callId: 'o1', fromTag: 'a' }, 1));
    await h.send(e);
    const [r] = h.responses();
    assert.ok(r);
    assert.equal(r.msg.status, 200);
    assert.equal(r.out.txn, e.txn);
    assert.match(r.msg.getHeader('Allow') ?? '', /INVITE.*REGISTER/);
    assert.equal(r.msg.getHeader('Accept'), 'application/sdp');
    assert.match(r.msg.getHeader('Supported') ?? '', /100rel/);
    assert.ok(r.msg.to.tag);
  });

  it('unknown method 501, Max-Forwards 0 483, unknown scheme 416, unsupported Require 420, odd body 415', async () => {
    const h = harness();
    const d = { callId: 'v1', fromTag: 'a' };
    await h.send(envelope(req('FOO', d, 1)));
    const cases: [Buffer, number][] = [
      [req('OPTIONS', d, 3, { uri: 'mailto:bob@example.com' }), 416],
      [req('OPTIONS', d, 4, { extra: ['Require: foo, 100rel'] }), 420],
      [req('INVITE', { callId: 'v2', fromTag: 'b' }, 1, { contentType: 'text/plain', body: 'hello' }), 415],
    ];
    for (const [raw] of cases) await h.send(envelope(raw));
    const statuses = h.responses().map((r) => r.msg.status);
    assert.equal(statuses[0], 501);
    assert.deepEqual(statuses, [501, 416, 420, 415]);
    assert.ok(h.responses().length === 0);
  });

  it('§8.2.1 a standard method the ua does not serve (SUBSCRIBE, MESSAGE) is 405 with Allow; an unknown one 501', async () => {
    const h = harness();
    await h.send(envelope(req('SUBSCRIBE', { callId: 'm1', fromTag: 'a' }, 1)));
    await h.send(envelope(req('MESSAGE', { callId: 'm2', fromTag: 'a' }, 1)));
    await h.send(envelope(req('FROBNICATE', { callId: 'm3', fromTag: 'a' }, 1)));
    const rs = h.responses();
    assert.deepEqual(rs.map((r) => r.msg.status), [405, 405, 501]);
    for (const r of rs) assert.match(r.msg.getHeader('Allow') ?? '', /INVITE.*REGISTER/);
  });

  it('Max-Forwards 0 is 483 Too Many Hops', async () => {
    const h = harness();
    const raw = sipText([
      'OPTIONS sip:bob@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-mf0',
      'Max-Forwards: 0',
      'From: <sip:alice@127.0.0.1>;tag=a',
      'To: <sip:bob@127.0.0.1>',
      'Call-ID: mf0',
      'CSeq: 1 OPTIONS',
    ]);
    await h.send(envelope(raw));
    assert.equal(h.responses()[0]?.msg.status, 483);
  });

  it('in-dialog request for an unknown dialog is 481; ACK for one gets nothing', async () => {
    const h = harness();
    await h.send(envelope(req('BYE', { callId: 'nope', fromTag: 'a', toTag: 'zz' }, 2)));
    await h.send(envelope(req('ACK', { callId: 'nope', fromTag: 'a', toTag: 'zz' }, 1), { txn: null }));
    const rs = h.responses();
    assert.deepEqual(rs.map((r) => r.msg.status), [481]);
  });

  it('INVITE with Require: 100rel is accepted (we support it); an unparsable envelope is dropped', async () => {
    const h = harness();
    await h.send(envelope(invite({ callId: 'r1', fromTag: 'a' }, ['Require: 100rel', 'Supported: 100rel'])));
    assert.equal(h.callEvents()[0]?.event, 'offer');
    h.messaging.deliver('sip.req.INVITE', Buffer.from('{"v":1}'));
    await h.idle();
    assert.equal(h.responses().length, 0);
  });
});

describe('ua app: registrar with digest', () => {
  function authorize(challenge: string, password: string, nc = 1): string {
    return buildAuthorization({
      challenge: parseAuthValue(challenge),
      method: 'REGISTER',
      uri: 'sip:test',
      secret: { username: 'alice', password },
      cnonce: 'c0ffee',
      nc,
    });
  }

  it('challenges with 401, accepts the right digest with 200 + registered event, refuses a replay, 403 for a wrong password', async () => {
    const h = harness();
    await h.send(envelope(register({ cseq: 1 })));
    const [c] = h.responses();
    assert.equal(c?.msg.status, 401);
    const challenge = c?.msg.getHeaders('WWW-Authenticate').find((v) => v.includes('MD5')) ?? '';
    assert.ok(challenge);

    await h.send(envelope(register({ cseq: 2, auth: authorize(challenge, 'secret') })));
    const [ok] = h.responses();
    assert.equal(ok?.msg.status, 200);
    assert.match(ok?.msg.getHeader('Contact') ?? '', /expires=600/);
    const evs = h.regEvents();
    assert.deepEqual(evs.map((e) => [e.event, e.aor]), [['registered', 'sip:alice@test']]);

    await h.send(envelope(register({ cseq: 3, auth: authorize(challenge, 'secret') })));
    assert.equal(h.responses()[0]?.msg.status, 401, 'the same nc again is a replay: new challenge');

    await h.send(envelope(register({ cseq: 4, auth: authorize(challenge, 'wrong', 5) })));
    assert.equal(h.responses()[0]?.msg.status, 403);
    assert.equal(h.regEvents()[0]?.event, 'failed');
  });

  it('without authentication: Min-Expires 423, then register, refresh and unregister events', async () => {
    const h = harness({ SIPNATS_AUTH_REQUIRED: 'false' });
    await h.send(envelope(register({ expires: 5 })));
    const [r423] = h.responses();
    assert.equal(r423?.msg.status, 423);
    assert.equal(r423?.msg.getHeader('Min-Expires'), '60');
    await h.send(envelope(register({ cseq: 2 })));
    await h.send(envelope(register({ cseq: 3 })));
    await h.send(envelope(register({ cseq: 4, expires: 0 })));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200, 200, 200]);
    assert.deepEqual(h.regEvents().map((e) => e.event), ['registered', 'refreshed', 'unregistered']);
  });
});
