import assert from 'node:assert/strict';
import { TxnError, TxnErrorCode } from '../src/txn/errors.js';
import { InviteServerState } from '../src/txn/invite-server.js';
import type { ServerTxnHandle } from '../src/txn/transaction-layer.js';
import { assertDrained, harness, recordingTu, request, requestText, responseTo, UDP, type Harness, type RequestSpec } from './txn-harness.test.js';

function newTxn(h: Harness, spec: RequestSpec): ServerTxnHandle {
  const r = h.layer.receiveRequest(request(spec), UDP);
  assert.equal(r.kind, 'new');
  return r.kind === 'new' ? r.txn : (undefined as never);
}

function respond(h: Harness, txn: ServerTxnHandle, status: number, toTag?: string): string {
  const { res, bytes } = responseTo(txn.request, status, toTag);
  return h.layer.respond(txn.id, res, bytes);
}

describe('txn layer: matching (RFC 3261 §17.2.3, §9.2)', () => {
  it('§17.2.3 branch + sent-by + method: sent-by host is case-insensitive and the default port explicit', () => {
    const h = harness();
    const txn = newTxn(h, { branch: 'z9hG4bK-m1', viaHost: 'Client.Example.COM' });
    const r = h.layer.receiveRequest(request({ branch: 'z9hG4bK-m1', viaHost: 'client.example.com:5060' }), UDP);
    assert.deepEqual(r, { kind: 'retransmission', txn });
    assert.equal(h.layer.receiveRequest(request({ branch: 'z9hG4bK-m1', viaHost: 'client.example.com:5070' }), UDP).kind, 'new');
    assert.equal(h.layer.receiveRequest(request({ branch: 'z9hG4bK-m2', viaHost: 'client.example.com' }), UDP).kind, 'new');
    assert.equal(h.layer.size().server, 3);
  });

  it('§9.2 CANCEL is its own transaction, matched to its INVITE by branch; retransmitted CANCEL is absorbed', () => {
    const h = harness({ sendTrying: true });
    const invite = newTxn(h, { branch: 'z9hG4bK-i1' });
    const r = h.layer.receiveRequest(request({ method: 'CANCEL', branch: 'z9hG4bK-i1' }), UDP);
    assert.equal(r.kind, 'cancel');
    if (r.kind !== 'cancel') return;
    assert.equal(r.invite, invite);
    assert.notEqual(r.txn.id, invite.id);
    assert.equal(r.invite?.state, InviteServerState.proceeding);
    assert.equal(respond(h, r.txn, 200), 'sent');
    assert.equal(respond(h, invite, 487, 'to-c'), 'sent');
    assert.equal(h.layer.receiveRequest(request({ method: 'CANCEL', branch: 'z9hG4bK-i1' }), UDP).kind, 'retransmission');
    assert.deepEqual(h.sent.map((m) => m.line), ['SIP/2.0 100 Trying', 'SIP/2.0 200 Reason', 'SIP/2.0 487 Reason', 'SIP/2.0 200 Reason']);
    assert.deepEqual(h.layer.receiveRequest(request({ method: 'ACK', branch: 'z9hG4bK-i1', cseqMethod: 'ACK', toTag: 'to-c' }), UDP), {
      kind: 'ack',
      matched: 'non2xx',
    });
    assertDrained(h);
  });

  it('§9.2 CANCEL for an unknown INVITE has no invite handle (the transport answers 481 on its transaction)', () => {
    const h = harness();
    const r = h.layer.receiveRequest(request({ method: 'CANCEL', branch: 'z9hG4bK-nope' }), UDP);
    assert.equal(r.kind, 'cancel');
    if (r.kind !== 'cancel') return;
    assert.equal(r.invite, undefined);
    assert.equal(respond(h, r.txn, 481), 'sent');
    assertDrained(h);
  });

  it('§17.2.3 RFC 2543 fallback (no magic cookie): Request-URI, tags, Call-ID, CSeq and top Via decide', () => {
    const h = harness();
    const legacy = { branch: '' } as const;
    const invite = newTxn(h, legacy);
    assert.deepEqual(h.layer.receiveRequest(request(legacy), UDP), { kind: 'retransmission', txn: invite });
    // A branch without the cookie is compared as part of the whole top Via.
    assert.equal(h.layer.receiveRequest(request({ branch: '1234' }), UDP).kind, 'new');
    assert.equal(h.layer.receiveRequest(request({ ...legacy, cseq: 2 }), UDP).kind, 'new');
    assert.equal(h.layer.receiveRequest(request({ ...legacy, uri: 'sip:carol@example.com' }), UDP).kind, 'new');
    assert.equal(h.layer.receiveRequest(request({ ...legacy, fromTag: 'other' }), UDP).kind, 'new');
    // CANCEL: same fields, CSeq number, method CANCEL.
    const cancel = h.layer.receiveRequest(request({ ...legacy, method: 'CANCEL' }), UDP);
    assert.equal(cancel.kind === 'cancel' && cancel.invite, invite);
    // ACK for the non-2xx carries the To tag of the response.
    respond(h, invite, 486, 'legacy-tag');
    assert.deepEqual(h.layer.receiveRequest(request({ ...legacy, method: 'ACK', cseqMethod: 'ACK', toTag: 'wrong' }), UDP), {
      kind: 'ack',
      matched: 'none',
    });
    assert.deepEqual(h.layer.receiveRequest(request({ ...legacy, method: 'ACK', cseqMethod: 'ACK', toTag: 'legacy-tag' }), UDP), {
      kind: 'ack',
      matched: 'non2xx',
    });
    assert.equal(invite.state, InviteServerState.confirmed);
    assertDrained(h);
  });

  it('a request without Via is invalid (answer 400 statelessly)', () => {
    const h = harness();
    const req = request();
    const noVia = Object.create(req, { topVia: { value: undefined } }) as typeof req;
    assert.deepEqual(h.layer.receiveRequest(noVia, UDP), { kind: 'invalid', reason: 'request has no Via' });
  });
});

describe('txn layer: bounds (overload) and lifecycle', () => {
  it('a full server table answers overload for new requests but still absorbs retransmissions and ACKs', () => {
    const h = harness({ maxServerTxns: 2 });
    const first = newTxn(h, { method: 'OPTIONS', branch: 'z9hG4bK-o1' });
    newTxn(h, { method: 'OPTIONS', branch: 'z9hG4bK-o2' });
    assert.deepEqual(h.layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bK-o3' }), UDP), { kind: 'overload' });
    assert.equal(h.layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bK-o1' }), UDP).kind, 'retransmission');
    assert.equal(h.layer.receiveRequest(request({ method: 'ACK', branch: 'z9hG4bK-x', cseqMethod: 'ACK' }), UDP).kind, 'ack');
    assert.equal(h.eventsOf('overload').length, 1);
    respond(h, first, 200);
    h.clock.advance(32_000);
    assert.equal(h.layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bK-o3' }), UDP).kind, 'new');
    assertDrained(h);
  });

  it('a full client table makes request() throw OVERLOAD; duplicates, ACK and missing branches are refused', () => {
    const h = harness({ maxClientTxns: 1 });
    const tu = recordingTu(h.clock);
    h.layer.request(request({ method: 'OPTIONS', branch: 'z9hG4bK-q1' }), requestText({ method: 'OPTIONS' }), UDP, tu);
    const code = (c: string) => (e: unknown) => e instanceof TxnError && e.code === c;
    assert.throws(() => h.layer.request(request({ method: 'OPTIONS', branch: 'z9hG4bK-q1' }), requestText(), UDP, tu), code(TxnErrorCode.DUPLICATE));
    assert.throws(() => h.layer.request(request({ method: 'OPTIONS', branch: 'z9hG4bK-q2' }), requestText(), UDP, tu), code(TxnErrorCode.OVERLOAD));
    assert.throws(() => h.layer.request(request({ method: 'ACK', branch: 'z9hG4bK-q3' }), requestText(), UDP, tu), code(TxnErrorCode.INVALID_REQUEST));
    assert.throws(() => h.layer.request(request({ method: 'OPTIONS', branch: '' }), requestText(), UDP, tu), code(TxnErrorCode.INVALID_REQUEST));
    assertDrained(h);
    assert.equal(tu.timeouts, 1);
  });

  it('timer and limit values are validated', () => {
    const bad = (fn: () => unknown) => assert.throws(fn, (e: unknown) => e instanceof TxnError && e.code === TxnErrorCode.CONFIG);
    bad(() => harness({ timers: { T1: 0 } }));
    bad(() => harness({ timers: { T1: 5000, T2: 4000 } }));
    bad(() => harness({ maxServerTxns: 0 }));
  });

  it('close() stops every timer and forgets every transaction without TU callbacks; later requests are refused', () => {
    const h = harness();
    const tu = recordingTu(h.clock);
    const invite = newTxn(h, { branch: 'z9hG4bK-z1' });
    respond(h, invite, 200, 'to-z');
    h.layer.request(request({ branch: 'z9hG4bK-z2' }), requestText(), UDP, tu);
    h.layer.close();
    assert.deepEqual(h.layer.size(), { server: 0, client: 0, pendingAcks: 0 });
    assert.equal(h.clock.pending, 0);
    assert.deepEqual(h.layer.receiveRequest(request({ branch: 'z9hG4bK-z3' }), UDP), { kind: 'overload' });
    assert.throws(() => h.layer.request(request({ branch: 'z9hG4bK-z4' }), requestText(), UDP, tu), /closed/);
    assert.equal(tu.timeouts + tu.errors.length, 0);
  });
});

describe('txn layer: 2xx retransmission until ACK (RFC 3261 §13.3.1.4)', () => {
  const INVITE = { branch: 'z9hG4bK-r1' } as const;
  const ack = (toTag: string, cseq = 1) => request({ method: 'ACK', branch: 'z9hG4bK-ack2xx', cseqMethod: 'ACK', toTag, cseq });

  it('the 2xx is resent at T1, 2T1, 4T1... capped at T2 until the ACK (new branch, same Call-ID/CSeq/To tag) arrives', () => {
    const h = harness();
    const txn = newTxn(h, INVITE);
    respond(h, txn, 200, 'to-r');
    h.clock.advance(12_000);
    assert.deepEqual(h.sent.map((m) => m.at), [0, 500, 1500, 3500, 7500, 11500]);
    assert.ok(h.sent.every((m) => m.line === 'SIP/2.0 200 Reason'));
    assert.deepEqual(h.layer.receiveRequest(ack('other-tag'), UDP), { kind: 'ack', matched: 'none' });
    assert.deepEqual(h.layer.receiveRequest(ack('to-r', 2), UDP), { kind: 'ack', matched: 'none' });
    assert.deepEqual(h.layer.receiveRequest(ack('to-r'), UDP), { kind: 'ack', matched: '2xx' });
    assert.equal(h.layer.size().pendingAcks, 0);
    h.clock.advance(20_000);
    assert.equal(h.sent.length, 6, 'no retransmission after the ACK');
    assert.deepEqual(h.layer.receiveRequest(ack('to-r'), UDP), { kind: 'ack', matched: 'none' }, 'a retransmitted ACK goes to the TU');
    assert.equal(h.eventsOf('ack-timeout').length, 0);
    assertDrained(h);
  });

  it('without an ACK for 64*T1 the retransmissions stop and an ack-timeout event tells the TU to send BYE', () => {
    const h = harness();
    const txn = newTxn(h, INVITE);
    respond(h, txn, 200, 'to-r');
    h.clock.advance(31_999);
    assert.equal(h.eventsOf('ack-timeout').length, 0);
    h.clock.advance(1);
    assert.deepEqual(h.eventsOf('ack-timeout'), [
      { type: 'ack-timeout', txn: txn.id, callId: 'call-1@192.0.2.10', cseq: 1, toTag: 'to-r', flowId: UDP.id },
    ]);
    const count = h.sent.length;
    assertDrained(h);
    assert.equal(h.sent.length, count);
  });

  it('a 2xx sent again by the TU replaces the bytes that are retransmitted, without a second timer chain', () => {
    const h = harness();
    const txn = newTxn(h, INVITE);
    respond(h, txn, 200, 'to-r');
    const { res } = responseTo(txn.request, 200, 'to-r', 'OK Again');
    assert.equal(h.layer.respond(txn.id, res, Buffer.from(responseTo(txn.request, 200, 'to-r', 'OK Again').bytes)), 'sent');
    h.clock.advance(500);
    assert.deepEqual(h.sent.map((m) => `${m.at} ${m.line}`), ['0 SIP/2.0 200 Reason', '0 SIP/2.0 200 OK Again', '500 SIP/2.0 200 OK Again']);
    assert.equal(h.layer.size().pendingAcks, 1);
  });

  it('a send failure while retransmitting stops the retransmissions and is reported', () => {
    const h = harness();
    const txn = newTxn(h, INVITE);
    respond(h, txn, 200, 'to-r');
    h.failSends = true;
    h.clock.advance(500);
    assert.equal(h.layer.size().pendingAcks, 0);
    assert.equal(h.eventsOf('transport-error').length, 1);
    assertDrained(h);
  });
});
