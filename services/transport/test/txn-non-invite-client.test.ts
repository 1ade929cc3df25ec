import assert from 'node:assert/strict';
import { NonInviteClientState } from '../src/txn/non-invite-client.js';
import { assertDrained, harness, recordingTu, request, requestText, responseTo, TCP, UDP } from './txn-harness.test.js';

const SPEC = { method: 'OPTIONS', branch: 'z9hG4bK-n1' } as const;

function start(reliable = false) {
  const h = harness();
  const tu = recordingTu(h.clock);
  const req = request(SPEC);
  const txn = h.layer.request(req, requestText(SPEC), reliable ? TCP : UDP, tu);
  return { h, tu, req, txn };
}

describe('txn non-INVITE client (RFC 3261 §17.1.2)', () => {
  it('§17.1.2.2 Trying: Timer E doubles from T1 and is capped at T2; Timer F at 64*T1 reports a timeout', () => {
    const { h, tu, txn } = start();
    h.clock.advance(31_999);
    assert.deepEqual(
      h.sent.map((m) => m.at),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.equal(tu.timeouts, 0);
    h.clock.advance(1);
    assert.equal(tu.timeouts, 1);
    assert.equal(txn.state, NonInviteClientState.terminated);
    assert.deepEqual(h.eventsOf('timeout').map((e) => e.timer), ['F']);
    assertDrained(h);
  });

  it('§17.1.2.2 Proceeding: the pending Timer E fires, then retransmissions continue every T2; F still times out', () => {
    const { h, tu, req, txn } = start();
    h.clock.advance(600);
    h.layer.receiveResponse(responseTo(req, 100).res, UDP);
    assert.equal(txn.state, NonInviteClientState.proceeding);
    h.clock.advance(31_399);
    assert.deepEqual(
      h.sent.map((m) => m.at),
      [0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500],
    );
    h.clock.advance(1);
    assert.deepEqual(tu.responses.map((r) => r.status), [100]);
    assert.equal(tu.timeouts, 1);
    assertDrained(h);
  });

  it('§17.1.2.2 reliable flow: no Timer E; a final response ends the transaction at once (Timer K = 0)', () => {
    const { h, tu, req, txn } = start(true);
    h.clock.advance(10_000);
    assert.equal(h.sent.length, 1);
    h.layer.receiveResponse(responseTo(req, 200, 'to-1').res, TCP);
    assert.equal(txn.state, NonInviteClientState.terminated);
    assert.deepEqual(tu.responses.map((r) => r.status), [200]);
    assertDrained(h);
  });

  it('§17.1.2.2 Completed absorbs response retransmissions and Timer K (T4) ends it', () => {
    const { h, tu, req, txn } = start();
    h.clock.advance(100);
    const { res } = responseTo(req, 200, 'to-1');
    assert.deepEqual(h.layer.receiveResponse(res, UDP), { kind: 'matched', txn, delivered: true });
    assert.equal(txn.state, NonInviteClientState.completed);
    h.clock.advance(1000);
    assert.deepEqual(h.layer.receiveResponse(res, UDP), { kind: 'matched', txn, delivered: false });
    assert.equal(h.sent.length, 1, 'no retransmission after the final response');
    h.clock.advance(3_999);
    assert.equal(txn.state, NonInviteClientState.completed);
    h.clock.advance(1);
    assert.equal(txn.state, NonInviteClientState.terminated);
    assert.equal(tu.responses.length, 1);
    assertDrained(h);
  });

  it('§17.1.3 a response matches by branch and CSeq method only', () => {
    const { h, tu } = start();
    const other = request({ method: 'OPTIONS', branch: 'z9hG4bK-other' });
    assert.equal(h.layer.receiveResponse(responseTo(other, 200).res, UDP).kind, 'unmatched');
    const wrongMethod = request({ method: 'OPTIONS', branch: 'z9hG4bK-n1', cseqMethod: 'OPTIONS' });
    assert.equal(h.layer.receiveResponse(responseTo(wrongMethod, 200).res, UDP).kind, 'matched');
    assert.equal(tu.responses.length, 1);
    const invite = request({ branch: 'z9hG4bK-n1' });
    assert.equal(h.layer.receiveResponse(responseTo(invite, 200).res, UDP).kind, 'unmatched');
    assertDrained(h);
  });

  it('§17.1.4 a failing retransmission terminates the transaction and tells the TU', () => {
    const { h, tu, txn } = start();
    h.failSends = true;
    h.clock.advance(500);
    assert.equal(txn.state, NonInviteClientState.terminated);
    assert.equal(tu.errors.length, 1);
    assert.equal(tu.timeouts, 0);
    assertDrained(h);
  });

  it('a throwing TU callback is reported as an event and does not break the machine', () => {
    const h = harness();
    const req = request(SPEC);
    const txn = h.layer.request(req, requestText(SPEC), UDP, {
      onResponse: () => {
        throw new Error('tu bug');
      },
      onTimeout: () => undefined,
      onTransportError: () => undefined,
    });
    h.layer.receiveResponse(responseTo(req, 200).res, UDP);
    assert.equal(txn.state, NonInviteClientState.completed);
    assert.equal(h.eventsOf('tu-error')[0]?.error.message, 'tu bug');
    assertDrained(h);
  });
});
