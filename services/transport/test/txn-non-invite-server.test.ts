import assert from 'node:assert/strict';
import { NonInviteServerState } from '../src/txn/non-invite-server.js';
import type { ServerTxnHandle } from '../src/txn/transaction-layer.js';
import { assertDrained, harness, request, responseTo, TCP, UDP, type Harness } from './txn-harness.test.js';

const BYE = { method: 'BYE', branch: 'z9hG4bK-b1', toTag: 'to-1' } as const;

function receive(h: Harness, reliable = false): ServerTxnHandle {
  const r = h.layer.receiveRequest(request(BYE), reliable ? TCP : UDP);
  assert.equal(r.kind, 'new');
  return r.kind === 'new' ? r.txn : (undefined as never);
}

function respond(h: Harness, txn: ServerTxnHandle, status: number): string {
  const { res, bytes } = responseTo(txn.request, status);
  return h.layer.respond(txn.id, res, bytes);
}

describe('txn non-INVITE server (RFC 3261 §17.2.2)', () => {
  it('§17.2.2 Trying: retransmissions are absorbed without a response; no 100 Trying for non-INVITE', () => {
    const h = harness({ sendTrying: true });
    const txn = receive(h);
    assert.equal(txn.state, NonInviteServerState.trying);
    assert.equal(h.layer.receiveRequest(request(BYE), UDP).kind, 'retransmission');
    assert.equal(h.sent.length, 0);
  });

  it('§17.2.2 Proceeding: a retransmission resends the last provisional', () => {
    const h = harness();
    const txn = receive(h);
    assert.equal(respond(h, txn, 100), 'sent');
    assert.equal(txn.state, NonInviteServerState.proceeding);
    h.layer.receiveRequest(request(BYE), UDP);
    assert.deepEqual(h.sent.map((m) => m.line), ['SIP/2.0 100 Reason', 'SIP/2.0 100 Reason']);
  });

  it('§17.2.2 Completed: a retransmission resends the final, later finals are refused, Timer J (64*T1) ends it', () => {
    const h = harness();
    const txn = receive(h);
    respond(h, txn, 100);
    assert.equal(respond(h, txn, 200), 'sent');
    assert.equal(txn.state, NonInviteServerState.completed);
    h.clock.advance(5000);
    assert.equal(h.layer.receiveRequest(request(BYE), UDP).kind, 'retransmission');
    assert.equal(h.sent.at(-1)?.line, 'SIP/2.0 200 Reason');
    assert.equal(respond(h, txn, 500), 'bad-state');
    h.clock.advance(26_999);
    assert.equal(txn.state, NonInviteServerState.completed);
    h.clock.advance(1);
    assert.equal(txn.state, NonInviteServerState.terminated);
    assert.equal(h.eventsOf('terminated')[0]?.reason, 'normal');
    assertDrained(h);
  });

  it('§17.2.2 Completed keeps a compact copy of the request: identity, Via and header lookups survive, the parsed request is released', () => {
    const h = harness();
    const txn = receive(h);
    const parsed = txn.request;
    respond(h, txn, 200);
    assert.notEqual(txn.request, parsed, 'the parsed request is no longer held');
    assert.equal(txn.request.method, 'BYE');
    assert.equal(txn.request.callId, parsed.callId);
    assert.deepEqual(txn.request.cseq, { seq: parsed.cseq.seq, method: parsed.cseq.method });
    assert.equal(txn.request.topVia?.branch, BYE.branch);
    assert.deepEqual(txn.request.getHeaders('Via'), parsed.getHeaders('Via'));
    assert.equal(txn.request.getHeader('call-id'), parsed.callId);
    assert.equal(txn.request.getHeader('To'), parsed.to.raw);
    assert.equal(txn.request.getHeader('Subject'), undefined);
    assert.equal(h.layer.receiveRequest(request(BYE), UDP).kind, 'retransmission');
    assert.equal(h.sent.at(-1)?.line, 'SIP/2.0 200 Reason');
    assert.equal(respond(h, txn, 500), 'bad-state', 'a late final still matches the compact request and is refused by state');
  });

  it('§17.2.2 reliable flow: Timer J is 0, the final response ends the transaction', () => {
    const h = harness();
    const txn = receive(h, true);
    respond(h, txn, 200);
    assert.equal(txn.state, NonInviteServerState.terminated);
    assert.equal(h.layer.receiveRequest(request(BYE), TCP).kind, 'new', 'a late retransmission is a new request');
  });

  it('a transaction the TU never answers is dropped after 64*T1 (the client gave up at Timer F)', () => {
    const h = harness();
    const txn = receive(h);
    h.clock.advance(32_000);
    assert.equal(txn.state, NonInviteServerState.terminated);
    assert.deepEqual(h.eventsOf('timeout').map((e) => e.timer), ['no-final']);
    assertDrained(h);
  });

  it('§17.2.4 a failing send terminates the transaction', () => {
    const h = harness();
    const txn = receive(h);
    h.failSends = true;
    assert.equal(respond(h, txn, 200), 'transport-error');
    assert.equal(txn.state, NonInviteServerState.terminated);
    assertDrained(h);
  });
});
