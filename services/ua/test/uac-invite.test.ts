import assert from 'node:assert/strict';
import { credentialsFromPassword, StaticCredentialStore } from '../src/auth/credential-store.js';
import { DigestAuthenticator } from '../src/auth/digest-server.js';
import { NonceService } from '../src/auth/nonce.js';
import { MemoryNonceCountStore } from '../src/auth/nonce-count-store.js';
import { handleUacCommand, handleUacTimer } from '../src/uac/control.js';
import { handleUacRequest } from '../src/uac/in-dialog-adapter.js';
import { handleUacLocalFinal, handleUacResponse } from '../src/uac/response.js';
import { startOutboundCall } from '../src/uac/start.js';
import { UacError } from '../src/uac/errors.js';
import type { UacConfig, UacRecord, UacRequest, UacTransition } from '../src/uac/types.js';
import { authValue, FakeClock, seededRandom } from './support/fakes.js';
import { header, headersNamed, request, response } from './support/sip.js';

const config: UacConfig = { answerTimeoutMs: 30_000, noAnswerStatus: 480, sessionExpires: 0, minSE: 90, ringTimeoutMs: 45_000 };
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ANSWER = 'v=0\r\no=- 2 2 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';

interface Call {
  clock: FakeClock;
  random: (n: number) => Uint8Array;
  record: UacRecord;
  invite: UacRequest;
}

function start(extra: Partial<Parameters<typeof startOutboundCall>[1]> = {}): Call {
  const clock = new FakeClock();
  const random = seededRandom('uac');
  const t = startOutboundCall(config, {
    call: 'c-1',
    from: '"Alice" <sip:alice@127.0.0.1>',
    to: 'sip:bob@127.0.0.2',
    requestUri: 'sip:bob@127.0.0.2:5070',
    sdp: OFFER,
    localContact: 'sip:ua@127.0.0.1:5060',
    now: clock.now,
    random,
    ...extra,
  });
  const invite = t.requests[0];
  assert.ok(invite);
  return { clock, random, record: t.record, invite };
}

/** A response to `req` as the peer would send it. */
function reply(req: UacRequest, status: number, o: { tag?: string; lines?: string[]; body?: string; reason?: string } = {}) {
  const to = header(req.headers, 'To') ?? '';
  const lines = [
    `SIP/2.0 ${status} ${o.reason ?? 'Whatever'}`,
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest',
    `From: ${header(req.headers, 'From')}`,
    `To: ${o.tag === undefined || /;tag=/.test(to) ? to : `${to};tag=${o.tag}`}`,
    `Call-ID: ${header(req.headers, 'Call-ID')}`,
    `CSeq: ${header(req.headers, 'CSeq')}`,
    ...(o.lines ?? []),
    ...(o.body === undefined ? [] : ['Content-Type: application/sdp']),
  ];
  return response(lines, o.body ?? '');
}

function step(c: Call, t: UacTransition): UacTransition {
  c.record = t.record;
  return t;
}

function feed(c: Call, req: UacRequest, status: number, o: Parameters<typeof reply>[2] = {}): UacTransition {
  return step(c, handleUacResponse(config, c.record, reply(req, status, o), { now: c.clock.now, random: c.random }));
}

const names = (t: UacTransition): string[] => t.events.map((e) => e.event);
const methods = (t: UacTransition): string[] => t.requests.map((r) => r.method);

describe('uac: outbound INVITE (RFC 3261 §13.2)', () => {
  it('builds the initial INVITE with From tag, Call-ID, CSeq, Contact, Supported, Allow and the ring timer', () => {
    const clock = new FakeClock();
    const t = startOutboundCall(config, {
      call: 'c-9', from: 'sip:alice@127.0.0.1', to: '"Bob" <sip:bob@127.0.0.2>', requestUri: 'sip:bob@127.0.0.2', sdp: OFFER,
      headers: { 'X-Trace': 'abc' }, localContact: 'sip:ua@127.0.0.1:5060', now: clock.now, random: seededRandom('x'), timeoutMs: 5000,
      targets: [{ transport: 'udp', host: '127.0.0.2', port: 5070 }],
    });
    const inv = t.requests[0];
    assert.ok(inv);
    assert.equal(inv.method, 'INVITE');
    assert.equal(inv.purpose, 'invite');
    assert.equal(inv.requestUri, 'sip:bob@127.0.0.2');
    assert.match(header(inv.headers, 'From') ?? '', /^<sip:alice@127\.0\.0\.1>;tag=[0-9a-f]{16}$/);
    assert.equal(header(inv.headers, 'To'), '"Bob" <sip:bob@127.0.0.2>');
    assert.equal(header(inv.headers, 'CSeq'), '1 INVITE');
    assert.equal(header(inv.headers, 'Contact'), '<sip:ua@127.0.0.1:5060>');
    assert.equal(header(inv.headers, 'Supported'), '100rel, timer');
    assert.match(header(inv.headers, 'Allow') ?? '', /INVITE, ACK, CANCEL, BYE/);
    assert.equal(header(inv.headers, 'X-Sipnats-Call'), 'c-9');
    assert.equal(header(inv.headers, 'X-Trace'), 'abc');
    assert.equal(inv.body?.content, OFFER);
    assert.deepEqual(inv.target, { transport: 'udp', host: '127.0.0.2', port: 5070 });
    assert.equal(inv.txnRef, 'c-9/1');
    assert.deepEqual(t.timers, [{ name: 'ring-timeout', at: clock.now + 5000 }]);
    assert.equal(t.record.phase, 'calling');
  });

  it('X-Sipnats-Call: the call id, or the callHeader asked for (a bridge leg naming its inbound call); never a controller header', () => {
    const own = start({ headers: { 'X-Sipnats-Call': 'forged' } });
    assert.deepEqual(headersNamed(own.invite.headers, 'X-Sipnats-Call'), ['c-1']);
    const leg = start({ call: 'c-1-b1', callHeader: 'c-1', headers: { 'x-sipnats-call': 'c-1', 'X-Trace': 't' } });
    assert.deepEqual(headersNamed(leg.invite.headers, 'X-Sipnats-Call'), ['c-1']);
    assert.equal(header(leg.invite.headers, 'X-Trace'), 't');
    assert.equal(leg.record.call, 'c-1-b1');
    assert.throws(() => start({ callHeader: 'a\r\nVia: x' }), UacError);
  });

  it('refuses unusable input with UA_UAC_INVALID', () => {
    assert.throws(() => start({ to: 'not a uri' }), (e: unknown) => e instanceof UacError && e.code === 'UA_UAC_INVALID');
    assert.throws(() => start({ headers: { Route: '<sip:evil>' } }), UacError);
    assert.throws(() => start({ requestUri: 'tel:+123' }), UacError);
    assert.throws(() => start({ headers: { 'X-A': 'a\r\nB: b' } }), UacError);
  });

  it('ring → answer → ACK: events, dialog with reversed Record-Route and Contact as remote target', () => {
    const c = start();
    assert.deepEqual(names(feed(c, c.invite, 100)), []);
    const ringing = feed(c, c.invite, 180, { tag: 'b1', lines: ['Contact: <sip:bob@127.0.0.2:5070>'] });
    assert.deepEqual(names(ringing), ['ringing']);
    assert.equal(c.record.phase, 'early');
    const ok = feed(c, c.invite, 200, {
      tag: 'b1', body: ANSWER,
      lines: ['Contact: <sip:bob@10.9.9.9:5070>', 'Record-Route: <sip:p2.example;lr>, <sip:p1.example;lr>'],
    });
    assert.deepEqual(names(ok), ['answered']);
    assert.equal(ok.events[0]?.sdp, ANSWER);
    assert.deepEqual(ok.cancelTimers, ['ring-timeout', 'cancel-timeout']);
    const ack = ok.requests[0];
    assert.ok(ack);
    assert.equal(ack.method, 'ACK');
    assert.equal(ack.purpose, 'ack');
    assert.equal(ack.requestUri, 'sip:bob@10.9.9.9:5070');
    assert.equal(header(ack.headers, 'CSeq'), '1 ACK');
    assert.deepEqual(headersNamed(ack.headers, 'Route'), ['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
    assert.match(header(ack.headers, 'To') ?? '', /;tag=b1$/);
    assert.equal(c.record.phase, 'confirmed');
    assert.equal(c.record.dialog?.role, 'uac');
    assert.equal(c.record.dialog?.remoteSdp, ANSWER);

    // A retransmitted 2xx gets the very same ACK, and no new event.
    const again = feed(c, c.invite, 200, { tag: 'b1', body: ANSWER, lines: ['Contact: <sip:bob@10.9.9.9:5070>'] });
    assert.deepEqual(again.requests, [ack]);
    assert.deepEqual(names(again), []);
  });

  it('183 with SDP → early event; a reliable provisional (RFC 3262) gets one PRACK, its retransmission none', () => {
    const c = start();
    const t = feed(c, c.invite, 183, { tag: 'b1', body: ANSWER, lines: ['Contact: <sip:bob@127.0.0.2:5070>', 'Require: 100rel', 'RSeq: 7', 'Record-Route: <sip:p1;lr>'] });
    assert.deepEqual(names(t), ['early']);
    assert.equal(t.events[0]?.sdp, ANSWER);
    assert.deepEqual(methods(t), ['PRACK']);
    const prack = t.requests[0];
    assert.ok(prack);
    assert.equal(prack.purpose, 'prack');
    assert.equal(prack.requestUri, 'sip:bob@127.0.0.2:5070');
    assert.equal(header(prack.headers, 'RAck'), '7 1 INVITE');
    assert.equal(header(prack.headers, 'CSeq'), '2 PRACK');
    assert.deepEqual(headersNamed(prack.headers, 'Route'), ['<sip:p1;lr>']);
    const retransmitted = feed(c, c.invite, 183, { tag: 'b1', body: ANSWER, lines: ['Require: 100rel', 'RSeq: 7'] });
    assert.deepEqual(methods(retransmitted), []);
    assert.deepEqual(names(retransmitted), []);
    const next = feed(c, c.invite, 180, { tag: 'b1', lines: ['Require: 100rel', 'RSeq: 8'] });
    assert.equal(header(next.requests[0]?.headers ?? [], 'CSeq'), '3 PRACK');
    assert.equal(header(next.requests[0]?.headers ?? [], 'RAck'), '8 1 INVITE');
    const outOfOrder = feed(c, c.invite, 180, { tag: 'b1', lines: ['Require: 100rel', 'RSeq: 10'] });
    assert.deepEqual(methods(outOfOrder), []);
  });

  it('486 Busy Here → failed with status, reason and USER_BUSY; no ACK from the ua', () => {
    const c = start();
    feed(c, c.invite, 180, { tag: 'b1' });
    const t = feed(c, c.invite, 486, { tag: 'b1', reason: 'Busy Here' });
    assert.deepEqual(methods(t), []);
    assert.deepEqual(t.events, [{ event: 'failed', cause: 'USER_BUSY', status: 486, reason: 'Busy Here' }]);
    assert.equal(c.record.phase, 'ended');
    assert.ok(t.cancelTimers.includes('ring-timeout'));
  });

  it('Max-Forwards: the config\'s default (70), or the one asked for (a bridge leg: the inbound INVITE\'s minus one), in every attempt and the CANCEL', () => {
    assert.equal(header(start().invite.headers, 'Max-Forwards'), '70');
    const c = start({ maxForwards: 12, credentials: { username: 'alice', password: 'secret' } });
    assert.equal(header(c.invite.headers, 'Max-Forwards'), '12');
    const retry = feed(c, c.invite, 407, { tag: 'px', lines: ['Proxy-Authenticate: Digest realm="x", nonce="n"'] });
    const second = retry.requests[0];
    assert.equal(second?.method, 'INVITE');
    assert.equal(header(second.headers, 'Max-Forwards'), '12');
    feed(c, second, 180, { tag: 'b1' });
    const hangup = handleUacCommand(config, c.record, { action: 'hangup' }, c.clock.now);
    assert.ok(hangup.ok);
    assert.equal(hangup.transition.requests[0]?.method, 'CANCEL');
    assert.equal(header(hangup.transition.requests[0]?.headers ?? [], 'Max-Forwards'), '12');
    for (const bad of [0, 256, 1.5]) assert.throws(() => start({ maxForwards: bad }), UacError, String(bad));
  });

  it('RFC 4028 §7.3: a 422 → the INVITE once more with Session-Expires and Min-SE raised to the 422\'s Min-SE (CSeq + 1); a second 422 fails the call', () => {
    const timed: UacConfig = { ...config, sessionExpires: 1800, minSE: 90 };
    const clock = new FakeClock();
    const random = seededRandom('uac-422');
    const begin = (call: string): UacTransition =>
      startOutboundCall(timed, { call, from: 'sip:alice@127.0.0.1', to: 'sip:bob@127.0.0.2', requestUri: 'sip:bob@127.0.0.2', sdp: OFFER, localContact: 'sip:ua@127.0.0.1:5060', now: clock.now, random });
    const started = begin('c-422');
    const first = started.requests[0];
    assert.ok(first);
    assert.equal(header(first.headers, 'Session-Expires'), '1800');
    assert.equal(header(first.headers, 'Min-SE'), '90');
    const ctx = { now: clock.now, random };
    const t = handleUacResponse(timed, started.record, reply(first, 422, { tag: 'u1', reason: 'Session Interval Too Small', lines: ['Min-SE: 3600'] }), ctx);
    assert.deepEqual(t.events, []);
    const second = t.requests[0];
    assert.equal(second?.method, 'INVITE');
    assert.equal(header(second.headers, 'CSeq'), '2 INVITE');
    assert.equal(header(second.headers, 'Call-ID'), header(first.headers, 'Call-ID'));
    assert.equal(header(second.headers, 'From'), header(first.headers, 'From'));
    assert.equal(header(second.headers, 'Session-Expires'), '3600');
    assert.equal(header(second.headers, 'Min-SE'), '3600');
    assert.equal(second.body?.content, OFFER);
    assert.equal(t.record.phase, 'calling');
    const again = handleUacResponse(timed, t.record, reply(second, 422, { tag: 'u1', reason: 'Session Interval Too Small', lines: ['Min-SE: 7200'] }), ctx);
    assert.deepEqual(again.requests, []);
    assert.equal(again.events[0]?.event, 'failed');
    assert.equal(again.events[0]?.status, 422);
    // No usable Min-SE, or none above ours: the 422 fails the call at once.
    for (const lines of [[], ['Min-SE: 1800'], ['Min-SE: 90000']]) {
      const fresh = begin('c-x');
      const inv = fresh.requests[0];
      assert.ok(inv);
      const r = handleUacResponse(timed, fresh.record, reply(inv, 422, { tag: 'u1', lines }), ctx);
      assert.deepEqual(r.requests, [], lines.join());
      assert.equal(r.record.phase, 'ended');
    }
    // Without a session timer of ours there is nothing to raise.
    const c = start();
    const r = feed(c, c.invite, 422, { tag: 'u1', lines: ['Min-SE: 3600'] });
    assert.deepEqual(r.requests, []);
    assert.equal(c.record.phase, 'ended');
  });

  it('forking: a 2xx from a second To tag is ACKed and BYEd, without an event; its retransmission is ACKed again', () => {
    const c = start();
    feed(c, c.invite, 200, { tag: 'b1', body: ANSWER, lines: ['Contact: <sip:bob@127.0.0.2:5070>'] });
    const second = feed(c, c.invite, 200, { tag: 'b2', body: ANSWER, lines: ['Contact: <sip:bob2@127.0.0.3:5070>'] });
    assert.deepEqual(methods(second), ['ACK', 'BYE']);
    assert.deepEqual(names(second), []);
    const [ack, bye] = second.requests;
    assert.equal(ack?.requestUri, 'sip:bob2@127.0.0.3:5070');
    assert.match(header(ack?.headers ?? [], 'To') ?? '', /;tag=b2$/);
    assert.equal(bye?.purpose, 'bye');
    assert.equal(header(bye?.headers ?? [], 'CSeq'), '2 BYE');
    assert.match(header(bye?.headers ?? [], 'To') ?? '', /;tag=b2$/);
    assert.equal(c.record.dialog?.remoteTag, 'b1');
    const retransmit = feed(c, c.invite, 200, { tag: 'b2', body: ANSWER });
    assert.deepEqual(retransmit.requests, [ack]);
  });
});

describe('uac: digest challenge (RFC 3261 §22.2)', () => {
  const realm = 'proxy.test';
  function proxy(clock: FakeClock): DigestAuthenticator {
    return new DigestAuthenticator({
      realm,
      nonces: new NonceService({ secret: Buffer.alloc(32, 3), random: seededRandom('n'), lifetimeMs: 300_000 }),
      counts: new MemoryNonceCountStore({ maxEntries: 100, ttlMs: 300_000, clock: clock.read }),
      credentials: new StaticCredentialStore([credentialsFromPassword('alice', realm, 'secret')]),
      mode: 'proxy',
    });
  }
  const challengeLines = (auth: DigestAuthenticator, now: number): string[] => auth.challenge(now).headers.map(([n, v]) => `${n}: ${v}`);

  it('407 → INVITE again with Proxy-Authorization (CSeq+1, same Call-ID and From tag), verified by the UAS authenticator', async () => {
    const c = start({ credentials: { username: 'alice', password: 'secret' } });
    const auth = proxy(c.clock);
    const t = feed(c, c.invite, 407, { tag: 'p1', lines: challengeLines(auth, c.clock.now) });
    assert.deepEqual(names(t), []);
    const retry = t.requests[0];
    assert.ok(retry);
    assert.equal(retry.method, 'INVITE');
    assert.equal(retry.txnRef, 'c-1/2');
    assert.equal(header(retry.headers, 'CSeq'), '2 INVITE');
    assert.equal(header(retry.headers, 'Call-ID'), header(c.invite.headers, 'Call-ID'));
    assert.equal(header(retry.headers, 'From'), header(c.invite.headers, 'From'));
    assert.equal(header(retry.headers, 'To'), header(c.invite.headers, 'To'));
    const credentials = header(retry.headers, 'Proxy-Authorization');
    assert.ok(credentials);
    const verdict = await auth.verify({ method: 'INVITE', requestUri: retry.requestUri, credentials: [authValue(credentials)], now: c.clock.now });
    assert.equal(verdict.kind, 'ok');
    const ok = feed(c, retry, 200, { tag: 'b1', body: ANSWER, lines: ['Contact: <sip:bob@127.0.0.2>'] });
    assert.deepEqual(names(ok), ['answered']);
    assert.equal(header(ok.requests[0]?.headers ?? [], 'CSeq'), '2 ACK');
    assert.equal(header(ok.requests[0]?.headers ?? [], 'Proxy-Authorization'), credentials);
  });

  it('wrong credentials: the second 407 ends the call as failed (AUTH_FAILED), no third INVITE', () => {
    const c = start({ credentials: { username: 'alice', password: 'wrong' } });
    const auth = proxy(c.clock);
    const first = feed(c, c.invite, 407, { lines: challengeLines(auth, c.clock.now) });
    const retry = first.requests[0];
    assert.ok(retry);
    const second = feed(c, retry, 407, { lines: challengeLines(auth, c.clock.now) });
    assert.deepEqual(methods(second), []);
    assert.equal(second.events[0]?.event, 'failed');
    assert.equal(second.events[0]?.cause, 'AUTH_FAILED');
    assert.match(second.events[0]?.reason ?? '', /credentials rejected/);
    assert.equal(c.record.phase, 'ended');
  });

  it('a stale=true challenge is answered once more; without credentials a 401 fails at once', () => {
    const c = start({ credentials: { username: 'alice', password: 'secret' } });
    const auth = proxy(c.clock);
    const retry = feed(c, c.invite, 407, { lines: challengeLines(auth, c.clock.now) }).requests[0];
    assert.ok(retry);
    const staleLines = auth.challenge(c.clock.now, true, 'nonce-stale').headers.map(([n, v]) => `${n}: ${v}`);
    const again = feed(c, retry, 407, { lines: staleLines });
    assert.deepEqual(methods(again), ['INVITE']);
    const third = again.requests[0];
    assert.ok(third);
    assert.deepEqual(names(feed(c, third, 407, { lines: staleLines })), ['failed']);

    const bare = start();
    const t = feed(bare, bare.invite, 401, { lines: ['WWW-Authenticate: Digest realm="x", nonce="abc", qop="auth"'] });
    assert.deepEqual(methods(t), []);
    assert.match(t.events[0]?.reason ?? '', /no credentials/);
  });
});

describe('uac: CANCEL (RFC 3261 §9.1)', () => {
  it('hangup before the answer: CANCEL for the INVITE transaction, then 487 → cancelled', () => {
    const c = start({ route: ['<sip:edge.test;lr>'] });
    feed(c, c.invite, 180, { tag: 'b1' });
    const out = handleUacCommand(config, c.record, { action: 'hangup' }, c.clock.now);
    assert.ok(out.ok);
    step(c, out.transition);
    const cancel = out.transition.requests[0];
    assert.ok(cancel);
    assert.equal(cancel.method, 'CANCEL');
    assert.equal(cancel.cancels, c.invite.txnRef);
    assert.equal(cancel.requestUri, c.invite.requestUri);
    assert.equal(header(cancel.headers, 'CSeq'), '1 CANCEL');
    assert.equal(header(cancel.headers, 'To'), header(c.invite.headers, 'To'));
    assert.equal(header(cancel.headers, 'From'), header(c.invite.headers, 'From'));
    assert.deepEqual(headersNamed(cancel.headers, 'Route'), ['<sip:edge.test;lr>']);
    assert.equal(c.record.phase, 'cancelling');
    assert.ok(out.transition.timers.some((t) => t.name === 'cancel-timeout'));
    const again = handleUacCommand(config, c.record, { action: 'hangup' }, c.clock.now);
    assert.equal(again.ok ? 'ok' : again.code, 'CONFLICT');
    const t = feed(c, c.invite, 487, { tag: 'b1' });
    assert.equal(t.events[0]?.event, 'cancelled');
    assert.equal(t.events[0]?.status, 487);
    assert.equal(c.record.phase, 'ended');
  });

  it('a CANCEL asked for before any provisional waits for one (§9.1)', () => {
    const c = start();
    const out = handleUacCommand(config, c.record, { action: 'hangup' }, c.clock.now);
    assert.ok(out.ok);
    step(c, out.transition);
    assert.deepEqual(methods(out.transition), []);
    const t = feed(c, c.invite, 100);
    assert.deepEqual(methods(t), ['CANCEL']);
    assert.deepEqual(methods(feed(c, c.invite, 180, { tag: 'b1' })), []);
  });

  it('200 after CANCEL (the race): ACK and BYE, the call ends as cancelled', () => {
    const c = start();
    feed(c, c.invite, 180, { tag: 'b1' });
    const out = handleUacCommand(config, c.record, { action: 'hangup', cause: 'NORMAL_CLEARING' }, c.clock.now);
    assert.ok(out.ok);
    step(c, out.transition);
    const t = feed(c, c.invite, 200, { tag: 'b1', body: ANSWER, lines: ['Contact: <sip:bob@127.0.0.2:5070>'] });
    assert.deepEqual(methods(t), ['ACK', 'BYE']);
    assert.equal(header(t.requests[1]?.headers ?? [], 'CSeq'), '2 BYE');
    assert.deepEqual(names(t), ['cancelled']);
    assert.equal(t.events[0]?.status, 200);
    assert.equal(c.record.phase, 'ended');
  });

  it('ring timeout: CANCEL, 487 → failed NO_ANSWER; no final at all → cancel-timeout ends it', () => {
    const c = start();
    feed(c, c.invite, 180, { tag: 'b1' });
    c.clock.advance(45_000);
    const t = step(c, handleUacTimer(config, c.record, 'ring-timeout', c.clock.now));
    assert.deepEqual(methods(t), ['CANCEL']);
    const end = feed(c, c.invite, 487);
    assert.deepEqual(end.events, [{ event: 'failed', cause: 'NO_ANSWER', status: 487, reason: 'ring timeout' }]);

    const d = start();
    feed(d, d.invite, 183, { tag: 'b1' });
    step(d, handleUacTimer(config, d.record, 'ring-timeout', d.clock.now));
    const gone = step(d, handleUacTimer(config, d.record, 'cancel-timeout', d.clock.now + 32_000));
    assert.equal(gone.events[0]?.event, 'failed');
    assert.equal(d.record.phase, 'ended');
  });
});

describe('uac: failover over RFC 3263 targets, and the confirmed dialog', () => {
  const targets = [
    { transport: 'udp', host: '127.0.0.2', port: 5070 },
    { transport: 'tcp', host: '127.0.0.3', port: 5070 },
  ] as const;

  it('a transport timeout (408 timeout: true) moves to the next target and reports the failed one', () => {
    const c = start({ targets });
    const t = step(c, handleUacLocalFinal(config, c.record, { txnRef: 'c-1/1', status: 408, reason: 'Request Timeout', timeout: true }, c.clock.now));
    assert.deepEqual(t.failedTarget, targets[0]);
    const next = t.requests[0];
    assert.deepEqual(next?.target, targets[1]);
    assert.equal(next?.txnRef, 'c-1/2');
    // A stale local final of the first attempt changes nothing.
    assert.equal(handleUacLocalFinal(config, c.record, { txnRef: 'c-1/1', status: 408, reason: 'x', timeout: true }, c.clock.now).changed, false);
    const last = step(c, handleUacResponse(config, c.record, reply(next as UacRequest, 503, { reason: 'Service Unavailable' }), { now: c.clock.now, random: c.random }));
    assert.deepEqual(last.failedTarget, targets[1]);
    assert.deepEqual(names(last), ['failed']);
  });

  it('no failover once a provisional arrived', () => {
    const c = start({ targets });
    feed(c, c.invite, 100);
    const t = step(c, handleUacLocalFinal(config, c.record, { txnRef: 'c-1/1', status: 408, reason: 'Request Timeout', timeout: true }, c.clock.now));
    assert.deepEqual(names(t), ['failed']);
    assert.equal(t.events[0]?.cause, 'RECOVERY_ON_TIMER_EXPIRE');
  });

  it('after the answer the dialog core handles BYE from the peer and hangup sends BYE', () => {
    const c = start();
    feed(c, c.invite, 200, { tag: 'b1', body: ANSWER, lines: ['Contact: <sip:bob@127.0.0.2:5070>', 'Session-Expires: 1800;refresher=uac'] });
    assert.equal(c.record.dialog?.timer?.refresher, 'local');
    const callId = header(c.invite.headers, 'Call-ID') ?? '';
    const from = header(c.invite.headers, 'From') ?? '';
    const bye = request([
      'BYE sip:ua@127.0.0.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKbye1',
      'From: <sip:bob@127.0.0.2>;tag=b1',
      `To: ${from}`,
      `Call-ID: ${callId}`,
      'CSeq: 1 BYE',
      'Max-Forwards: 70',
    ]);
    const t = step(c, handleUacRequest(config, c.record, { request: bye, txn: 't1', now: c.clock.now }));
    assert.equal(t.responses[0]?.response.status, 200);
    assert.deepEqual(names(t), ['ended']);
    assert.equal(c.record.phase, 'ended');

    const d = start();
    feed(d, d.invite, 200, { tag: 'b1', body: ANSWER, lines: ['Contact: <sip:bob@127.0.0.2:5070>'] });
    const out = handleUacCommand(config, d.record, { action: 'hangup' }, d.clock.now);
    assert.ok(out.ok);
    assert.deepEqual(methods(out.transition), ['BYE']);
    assert.equal(out.transition.requests[0]?.purpose, 'in-dialog');
    assert.equal(header(out.transition.requests[0]?.headers ?? [], 'CSeq'), '2 BYE');
    assert.equal(out.transition.record.phase, 'ended');
  });
});
