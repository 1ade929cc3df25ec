import assert from 'node:assert/strict';
import { parseMessage } from '@sipnats/sip-codec';
import { TxnError, TxnErrorCode } from '../src/txn/errors.js';
import { InviteClientState } from '../src/txn/invite-client.js';
import { assertDrained, harness, recordingTu, request, requestText, responseTo, TCP, UDP } from './txn-harness.test.js';

function startInvite(reliable = false, headers: readonly string[] = []) {
  const h = harness();
  const tu = recordingTu(h.clock);
  const req = request({ branch: 'z9hG4bK-c1', headers });
  const txn = h.layer.request(req, requestText({ branch: 'z9hG4bK-c1', headers }), reliable ? TCP : UDP, tu);
  return { h, tu, req, txn };
}

describe('txn INVITE client (RFC 3261 §17.1.1, RFC 6026 §8.4)', () => {
  it('§17.1.1.2 Calling: Timer A doubles from T1 (0, .5, 1.5, 3.5, 7.5, 15.5, 31.5 s) and Timer B at 64*T1 reports a timeout', () => {
    const { h, tu, txn } = startInvite();
    assert.equal(txn.state, InviteClientState.calling);
    h.clock.advance(31_999);
    assert.deepEqual(
      h.sent.map((m) => m.at),
      [0, 500, 1500, 3500, 7500, 15500, 31500],
    );
    assert.equal(tu.timeouts, 0);
    h.clock.advance(1);
    assert.equal(tu.timeouts, 1);
    assert.equal(txn.state, InviteClientState.terminated);
    assert.deepEqual(h.eventsOf('timeout').map((e) => e.timer), ['B']);
    assert.equal(h.eventsOf('retransmission').length, 6);
    assertDrained(h);
  });

  it('§17.1.1.2 reliable flow: no Timer A retransmissions, Timer B still fires', () => {
    const { h, tu } = startInvite(true);
    h.clock.advance(32_000);
    assert.equal(h.sent.length, 1);
    assert.equal(tu.timeouts, 1);
    assertDrained(h);
  });

  it('§17.1.1.2 a provisional enters Proceeding: retransmissions stop, Timer B no longer applies, 1xx go to the TU', () => {
    const { h, tu, req, txn } = startInvite();
    h.clock.advance(600);
    const r = h.layer.receiveResponse(responseTo(req, 180, 'to-1').res, UDP);
    assert.equal(r.kind, 'matched');
    assert.equal(r.kind === 'matched' && r.delivered, true);
    assert.equal(txn.state, InviteClientState.proceeding);
    h.layer.receiveResponse(responseTo(req, 183, 'to-1').res, UDP);
    h.clock.advance(60_000);
    assert.equal(h.sent.length, 2, 'only the initial send and the Timer A retransmission at 500 ms');
    assert.equal(tu.timeouts, 0);
    assert.deepEqual(tu.responses.map((r) => r.status), [180, 183]);
    assert.equal(txn.state, InviteClientState.proceeding);
    assertDrained(h);
  });

  it('Proceeding is bounded by Timer C (configurable), which reports a timeout', () => {
    const h = harness({ timers: { C: 10_000 } });
    const tu = recordingTu(h.clock);
    const req = request({ branch: 'z9hG4bK-c2' });
    h.layer.request(req, requestText({ branch: 'z9hG4bK-c2' }), UDP, tu);
    h.layer.receiveResponse(responseTo(req, 100).res, UDP);
    h.clock.advance(9_999);
    assert.equal(tu.timeouts, 0);
    h.clock.advance(1);
    assert.equal(tu.timeouts, 1);
    assert.deepEqual(h.eventsOf('timeout').map((e) => e.timer), ['C']);
    assertDrained(h);
  });

  it('§9.1 after a CANCEL the INVITE waits at most 64*T1 for its final response', () => {
    const { h, tu, req } = startInvite();
    h.layer.receiveResponse(responseTo(req, 180, 'to-1').res, UDP);
    h.clock.advance(1000);
    const cancelSpec = { method: 'CANCEL', branch: 'z9hG4bK-c1' } as const;
    const cancelTu = recordingTu(h.clock);
    h.layer.request(request(cancelSpec), requestText(cancelSpec), UDP, cancelTu);
    h.layer.receiveResponse(responseTo(request(cancelSpec), 200).res, UDP);
    assert.deepEqual(cancelTu.responses.map((r) => r.status), [200]);
    h.clock.advance(31_999);
    assert.equal(tu.timeouts, 0);
    h.clock.advance(1);
    assert.equal(tu.timeouts, 1);
    assertDrained(h);
  });

  it('§17.1.1.3 a non-2xx final enters Completed and sends the ACK built from the INVITE and the response', () => {
    const route = ['Route: <sip:proxy1.example.com;lr>', 'Route: <sip:proxy2.example.com;lr>'];
    const { h, tu, req, txn } = startInvite(false, route);
    h.clock.advance(100);
    const { res } = responseTo(req, 486, 'to-busy', 'Busy Here');
    h.layer.receiveResponse(res, UDP);
    assert.equal(txn.state, InviteClientState.completed);
    assert.deepEqual(tu.responses, [{ at: 100, status: 486 }]);
    const ack = h.sent.at(-1);
    assert.ok(ack);
    assert.equal(
      ack.text,
      [
        'ACK sip:bob@example.com SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c1',
        'Route: <sip:proxy1.example.com;lr>',
        'Route: <sip:proxy2.example.com;lr>',
        'Max-Forwards: 70',
        'From: Alice <sip:alice@example.com>;tag=from-1',
        'To: <sip:bob@example.com>;tag=to-busy',
        'Call-ID: call-1@192.0.2.10',
        'CSeq: 1 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const parsed = parseMessage(Buffer.from(ack.text));
    assert.equal(parsed.kind === 'request' && parsed.method, 'ACK');
  });

  it('§17.1.1.2 Completed: a retransmitted final is answered with the same ACK and not passed up; Timer D (32 s) ends it', () => {
    const { h, tu, req, txn } = startInvite();
    const { res } = responseTo(req, 603, 'to-d');
    h.layer.receiveResponse(res, UDP);
    const firstAck = h.sent.at(-1)?.text;
    h.clock.advance(1000);
    const again = h.layer.receiveResponse(res, UDP);
    assert.deepEqual(again, { kind: 'matched', txn, delivered: false });
    assert.equal(h.sent.at(-1)?.text, firstAck);
    assert.equal(h.sent.filter((m) => m.line.startsWith('ACK')).length, 2);
    assert.equal(tu.responses.length, 1);
    h.clock.advance(30_999);
    assert.equal(txn.state, InviteClientState.completed);
    h.clock.advance(1);
    assert.equal(txn.state, InviteClientState.terminated);
    assertDrained(h);
  });

  it('§17.1.1.2 reliable flow: Timer D is 0, the transaction ends once the non-2xx is handled', () => {
    const { h, tu, req, txn } = startInvite(true);
    h.layer.receiveResponse(responseTo(req, 404, 'to-r').res, TCP);
    assert.equal(txn.state, InviteClientState.terminated);
    assert.equal(tu.responses.length, 1);
    assert.equal(h.sent.at(-1)?.line, 'ACK sip:bob@example.com SIP/2.0');
    assert.deepEqual(h.layer.size(), { server: 0, client: 0, pendingAcks: 0 });
    assertDrained(h);
  });

  it('RFC 6026 §8.4 a 2xx enters Accepted: 2xx retransmissions and other forks go to the TU, no ACK is sent here, Timer M ends it', () => {
    const { h, tu, req, txn } = startInvite();
    h.layer.receiveResponse(responseTo(req, 180, 'fork-a').res, UDP);
    h.layer.receiveResponse(responseTo(req, 200, 'fork-a').res, UDP);
    assert.equal(txn.state, InviteClientState.accepted);
    h.clock.advance(2000);
    h.layer.receiveResponse(responseTo(req, 200, 'fork-a').res, UDP);
    h.layer.receiveResponse(responseTo(req, 200, 'fork-b').res, UDP);
    const late = h.layer.receiveResponse(responseTo(req, 486, 'fork-c').res, UDP);
    assert.equal(late.kind === 'matched' && late.delivered, false);
    assert.deepEqual(tu.responses.map((r) => r.status), [180, 200, 200, 200]);
    assert.equal(h.sent.filter((m) => m.line.startsWith('ACK')).length, 0);
    h.clock.advance(29_999);
    assert.equal(txn.state, InviteClientState.accepted);
    h.clock.advance(1);
    assert.equal(txn.state, InviteClientState.terminated);
    assert.equal(h.layer.receiveResponse(responseTo(req, 200, 'fork-a').res, UDP).kind, 'unmatched');
    assertDrained(h);
  });

  it('§17.1.4 a failing retransmission terminates the transaction and tells the TU', () => {
    const { h, tu, txn } = startInvite();
    h.failSends = true;
    h.clock.advance(500);
    assert.equal(txn.state, InviteClientState.terminated);
    assert.equal(tu.errors.length, 1);
    assert.equal((tu.errors[0] as TxnError).code, TxnErrorCode.TRANSPORT);
    assertDrained(h);
  });

  it('§17.1.4 a failing first send throws a TRANSPORT TxnError and leaves nothing behind', () => {
    const h = harness();
    h.failSends = true;
    assert.throws(
      () => h.layer.request(request(), requestText(), UDP, recordingTu(h.clock)),
      (e: unknown) => e instanceof TxnError && e.code === TxnErrorCode.TRANSPORT && e.cause instanceof Error,
    );
    assertDrained(h);
  });

  it('a failing ACK still hands the final response to the TU, then ends the transaction', () => {
    const { h, tu, req, txn } = startInvite();
    h.failSends = true;
    h.layer.receiveResponse(responseTo(req, 500, 'to-e').res, UDP);
    assert.deepEqual(tu.responses.map((r) => r.status), [500]);
    assert.equal(txn.state, InviteClientState.terminated);
    assert.equal(h.eventsOf('transport-error').length, 1);
    assertDrained(h);
  });
});
