import assert from 'node:assert/strict';
import { InviteServerState } from '../src/txn/invite-server.js';
import type { ServerTxnHandle } from '../src/txn/transaction-layer.js';
import { assertDrained, harness, request, responseTo, TCP, UDP, type Harness } from './txn-harness.test.js';

const INVITE = { branch: 'z9hG4bK-s1', headers: ['Timestamp: 54'] } as const;
const ACK = { method: 'ACK', branch: 'z9hG4bK-s1', cseqMethod: 'ACK', toTag: 'to-s' } as const;

function receiveInvite(h: Harness, reliable = false): ServerTxnHandle {
  const r = h.layer.receiveRequest(request(INVITE), reliable ? TCP : UDP);
  assert.equal(r.kind, 'new');
  return r.kind === 'new' ? r.txn : (undefined as never);
}

function respond(h: Harness, txn: ServerTxnHandle, status: number, toTag = 'to-s'): string {
  const { res, bytes } = responseTo(txn.request, status, toTag);
  return h.layer.respond(txn.id, res, bytes);
}

describe('txn INVITE server (RFC 3261 §17.2.1, RFC 6026 §7.1)', () => {
  it('§17.2.1/§8.2.6 a new INVITE gets 100 Trying at once, built from the request (Via, From, To without tag, Call-ID, CSeq, Timestamp)', () => {
    const h = harness({ sendTrying: true });
    const req = request({ ...INVITE, extraVias: ['SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-p1;received=192.0.2.1'] });
    const r = h.layer.receiveRequest(req, UDP);
    assert.equal(r.kind, 'new');
    assert.equal(h.sent.length, 1);
    assert.equal(
      h.sent[0]?.text,
      [
        'SIP/2.0 100 Trying',
        'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-s1',
        'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-p1;received=192.0.2.1',
        'From: Alice <sip:alice@example.com>;tag=from-1',
        'To: <sip:bob@example.com>',
        'Call-ID: call-1@192.0.2.10',
        'CSeq: 1 INVITE',
        'Timestamp: 54',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  });

  it('§17.2.1 Proceeding: a retransmitted INVITE resends the most recent provisional (100 Trying first, then 180)', () => {
    const h = harness({ sendTrying: true });
    const txn = receiveInvite(h);
    assert.equal(h.layer.receiveRequest(request(INVITE), UDP).kind, 'retransmission');
    assert.equal(h.sent.at(-1)?.line, 'SIP/2.0 100 Trying');
    assert.equal(respond(h, txn, 180), 'sent');
    h.layer.receiveRequest(request(INVITE), UDP);
    assert.deepEqual(h.sent.map((m) => m.line), ['SIP/2.0 100 Trying', 'SIP/2.0 100 Trying', 'SIP/2.0 180 Reason', 'SIP/2.0 180 Reason']);
    assert.equal(txn.state, InviteServerState.proceeding);
    assert.equal(h.eventsOf('retransmission').filter((e) => e.direction === 'in').length, 2);
  });

  it('§17.2.1 without sendTrying a retransmitted INVITE before any response is absorbed silently', () => {
    const h = harness();
    receiveInvite(h);
    assert.equal(h.layer.receiveRequest(request(INVITE), UDP).kind, 'retransmission');
    assert.equal(h.sent.length, 0);
  });

  it('§17.2.1 Completed: Timer G resends the final at T1, 2T1... capped at T2; Timer H (64*T1) ends it with a timeout', () => {
    const h = harness();
    const txn = receiveInvite(h);
    assert.equal(respond(h, txn, 486), 'sent');
    assert.equal(txn.state, InviteServerState.completed);
    h.clock.advance(31_999);
    assert.deepEqual(
      h.sent.map((m) => m.at),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    h.clock.advance(1);
    assert.equal(txn.state, InviteServerState.terminated);
    assert.deepEqual(h.eventsOf('timeout').map((e) => e.timer), ['H']);
    assertDrained(h);
  });

  it('§17.2.1 Completed: a retransmitted INVITE resends the final; a second final from the TU is refused', () => {
    const h = harness();
    const txn = receiveInvite(h);
    respond(h, txn, 404);
    h.clock.advance(100);
    h.layer.receiveRequest(request(INVITE), UDP);
    assert.deepEqual(h.sent.map((m) => `${m.at} ${m.line}`), ['0 SIP/2.0 404 Reason', '100 SIP/2.0 404 Reason']);
    assert.equal(respond(h, txn, 500), 'bad-state');
  });

  it('§17.2.1 ACK for the non-2xx is absorbed: Completed → Confirmed, G stops, Timer I (T4) ends it', () => {
    const h = harness();
    const txn = receiveInvite(h);
    respond(h, txn, 603);
    h.clock.advance(700);
    assert.deepEqual(h.layer.receiveRequest(request(ACK), UDP), { kind: 'ack', matched: 'non2xx' });
    assert.equal(txn.state, InviteServerState.confirmed);
    // Confirmed: ACK retransmissions and INVITE retransmissions are absorbed, nothing is resent.
    assert.deepEqual(h.layer.receiveRequest(request(ACK), UDP), { kind: 'ack', matched: 'non2xx' });
    h.layer.receiveRequest(request(INVITE), UDP);
    h.clock.advance(4_999);
    assert.deepEqual(h.sent.map((m) => m.at), [0, 500], 'G stopped with the ACK');
    assert.equal(txn.state, InviteServerState.confirmed);
    h.clock.advance(1);
    assert.equal(txn.state, InviteServerState.terminated);
    assertDrained(h);
  });

  it('§17.2.1 reliable flow: no Timer G; Timer I is 0 so the ACK ends the transaction', () => {
    const h = harness();
    const txn = receiveInvite(h, true);
    respond(h, txn, 480);
    h.clock.advance(10_000);
    assert.equal(h.sent.length, 1);
    assert.deepEqual(h.layer.receiveRequest(request(ACK), TCP), { kind: 'ack', matched: 'non2xx' });
    assert.equal(txn.state, InviteServerState.terminated);
    assertDrained(h);
  });

  it('RFC 6026 §7.1 a 2xx enters Accepted: INVITE retransmissions absorbed, 2xx from the TU still sent, Timer L (64*T1) ends it', () => {
    const h = harness({ sendTrying: true });
    const txn = receiveInvite(h, true);
    assert.equal(respond(h, txn, 200), 'sent');
    assert.equal(txn.state, InviteServerState.accepted);
    h.layer.receiveRequest(request(INVITE), TCP);
    assert.equal(respond(h, txn, 200), 'sent');
    assert.equal(respond(h, txn, 486), 'bad-state');
    assert.deepEqual(h.sent.map((m) => m.line), ['SIP/2.0 100 Trying', 'SIP/2.0 200 Reason', 'SIP/2.0 200 Reason']);
    // A matching ACK (same branch, RFC 2543-style UAC) in Accepted goes to the TU.
    assert.deepEqual(h.layer.receiveRequest(request(ACK), TCP), { kind: 'ack', matched: '2xx' });
    h.clock.advance(31_999);
    assert.equal(txn.state, InviteServerState.accepted);
    h.clock.advance(1);
    assert.equal(txn.state, InviteServerState.terminated);
    assert.equal(h.layer.respond(txn.id, responseTo(txn.request, 200, 'to-s').res, Buffer.alloc(0)), 'unknown-transaction');
    assertDrained(h);
  });

  it('Proceeding is bounded by Timer C: with no final response from the TU the caller gets 408, then the ACK ends it (§16.8, §17.2.1)', () => {
    const h = harness({ timers: { C: 60_000 } });
    const txn = receiveInvite(h);
    h.clock.advance(59_999);
    assert.equal(h.sent.length, 0);
    h.clock.advance(1);
    assert.deepEqual(h.eventsOf('timeout').map((e) => e.timer), ['C']);
    assert.equal(txn.state, InviteServerState.completed);
    assert.equal(h.sent.length, 1);
    const text = h.sent[0]?.text ?? '';
    assert.equal(h.sent[0]?.line, 'SIP/2.0 408 Request Timeout');
    assert.match(text, /\r\nTo: <sip:bob@example\.com>;tag=sn[A-Za-z0-9]+\r\n/);
    assert.match(text, /\r\nCSeq: 1 INVITE\r\n/);
    assert.match(text, /\r\nVia: SIP\/2\.0\/UDP 192\.0\.2\.10:5060;branch=z9hG4bK-s1\r\n/);
    // A late final response from the TU no longer goes out; Timer G retransmits the 408 over UDP.
    assert.equal(respond(h, txn, 486), 'bad-state');
    h.clock.advance(500);
    assert.equal(h.sent.length, 2);
    assert.equal(h.sent[1]?.line, 'SIP/2.0 408 Request Timeout');
    const tag = /;tag=(sn[A-Za-z0-9]+)/.exec(text)?.[1] ?? '';
    const ack = h.layer.receiveRequest(request({ ...ACK, toTag: tag }), UDP);
    assert.deepEqual(ack, { kind: 'ack', matched: 'non2xx' });
    assert.equal(txn.state, InviteServerState.confirmed);
    h.clock.advance(5000);
    assertDrained(h);
  });

  it('§17.2.4 a failing send terminates the transaction and respond() says so', () => {
    const h = harness();
    const txn = receiveInvite(h);
    h.failSends = true;
    assert.equal(respond(h, txn, 500), 'transport-error');
    assert.equal(txn.state, InviteServerState.terminated);
    assert.equal(h.eventsOf('transport-error').length, 1);
    assertDrained(h);
  });

  it('respond() refuses a response for another request (Call-ID or CSeq differ)', () => {
    const h = harness();
    const txn = receiveInvite(h);
    const other = request({ ...INVITE, cseq: 2 });
    const { res, bytes } = responseTo(other, 200, 'x');
    assert.equal(h.layer.respond(txn.id, res, bytes), 'mismatch');
    assert.equal(h.sent.length, 0);
  });
});
