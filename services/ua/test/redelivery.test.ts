import assert from 'node:assert/strict';
import { envelope, harness } from './app-harness.js';
import { invite, req, SDP_ANSWER, SDP_OFFER, type Dlg } from './app-sip.js';
import { LandedUnconfirmedStore } from './support/landed-unconfirmed.js';

/** A call from `d` offered, answered by the controller and ACKed; returns its id (events and responses so far taken). */
async function confirmedCall(h: ReturnType<typeof harness>, d: Dlg): Promise<string | undefined> {
  await h.send(envelope(invite(d)));
  const [offer] = h.callEvents();
  await h.command('answer', { v: 1, call: offer?.call, action: 'answer', sdp: SDP_ANSWER });
  d.toTag = h.responses().find((r) => r.msg.status === 200)?.msg.to.tag;
  await h.send(envelope(req('ACK', d, 1), { txn: null }));
  assert.deepEqual(h.callEvents().map((e) => e.event), ['answered', 'confirmed']);
  return offer?.call;
}

describe('ua: a request delivered more than once (transport republish, lost answers)', () => {
  it('the same INVITE again (same txn, attempt 2) while the call waits for its controller: no second call, no 482, a 100 Trying so the transport stops publishing it', async () => {
    const h = harness();
    const d: Dlg = { callId: 'rd-1', fromTag: 'a1' };
    const first = envelope(invite(d));
    await h.send(first);
    const events = h.callEvents();
    assert.deepEqual(events.map((e) => e.event), ['offer']);
    assert.deepEqual(h.responses(), []);
    await h.send({ ...first, attempt: 2 });
    await h.send({ ...first, attempt: 3 });
    assert.deepEqual(h.callEvents(), [], 'no second offer');
    assert.deepEqual(h.responses().map((r) => [r.msg.status, r.out.txn]), [[100, first.txn], [100, first.txn]], 'no 482: 100 Trying on the INVITE transaction');
    assert.equal(h.calls.size, 1);
    // The controller still answers the one call.
    assert.equal((await h.command('answer', { v: 1, call: events[0]?.call, action: 'answer', sdp: SDP_ANSWER })).ok, true);
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
  });

  it('the same INVITE again after its final response: the final response is sent again on the transaction (2xx with retransmit2xx)', async () => {
    const h = harness();
    const d: Dlg = { callId: 'rd-2', fromTag: 'a2' };
    const first = envelope(invite(d));
    await h.send(first);
    const [offer] = h.callEvents();
    await h.command('answer', { v: 1, call: offer?.call, action: 'answer', sdp: SDP_ANSWER });
    const [ok] = h.responses();
    assert.equal(ok?.msg.status, 200);
    assert.deepEqual(h.callEvents().map((e) => e.event), ['answered']);
    await h.send({ ...first, attempt: 2 });
    const again = h.responses();
    assert.deepEqual(again.map((r) => [r.msg.status, r.out.txn, r.out.retransmit2xx]), [[200, first.txn, true]]);
    assert.equal(again[0]?.msg.to.tag, ok?.msg.to.tag, 'same To tag: the same answer');
    assert.deepEqual(h.callEvents(), []);
  });

  it('a rejected INVITE delivered again gets the same final status again', async () => {
    const h = harness();
    const d: Dlg = { callId: 'rd-3', fromTag: 'a3' };
    const first = envelope(invite(d));
    await h.send(first);
    const [offer] = h.callEvents();
    assert.equal((await h.command('reject', { v: 1, call: offer?.call, action: 'reject', status: 486 })).ok, true);
    assert.deepEqual(h.responses().map((r) => r.msg.status), [486]);
    await h.send({ ...first, attempt: 2 });
    assert.deepEqual(h.responses().map((r) => r.msg.status), [486]);
  });

  it('the same INVITE through another transport transaction (same branch and CSeq) is not a merged request; a different INVITE is (482)', async () => {
    const h = harness();
    const d: Dlg = { callId: 'rd-4', fromTag: 'a4' };
    await h.send(envelope(invite(d)));
    assert.equal(h.callEvents().length, 1);
    const again = envelope(invite(d)); // new txn id, same Via branch and CSeq
    await h.send(again);
    assert.deepEqual(h.responses().map((r) => [r.msg.status, r.out.txn]), [[100, again.txn]], 'the same call: only a 100 Trying');
    await h.send(envelope(req('INVITE', d, 1, { branch: 'z9hG4bK-other', body: 'v=0\r\n' })));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [482]);
    assert.equal(h.calls.size, 1);
  });

  it('a new INVITE (higher CSeq, new branch) after a rejected one with the same Call-ID and From tag is a new call, not merged (RFC 3261 §8.2.2.2)', async () => {
    const h = harness();
    const d: Dlg = { callId: 'rd-retry', fromTag: 'a7' };
    await h.send(envelope(invite(d)));
    const [first] = h.callEvents();
    assert.equal((await h.command('reject', { v: 1, call: first?.call, action: 'reject', status: 486 })).ok, true);
    assert.deepEqual(h.responses().map((r) => r.msg.status), [486]);
    h.callEvents();
    h.clock.advance(1000); // well within the 64·T1 the ended call stays
    const retry = envelope(req('INVITE', d, 2, { body: SDP_OFFER }));
    await h.send(retry);
    const events = h.callEvents();
    assert.deepEqual(events.map((e) => e.event), ['offer'], 'offered as a new call');
    assert.notEqual(events[0]?.call, first?.call);
    assert.equal(h.calls.size, 1, 'the ended call made way for the new one');
    assert.deepEqual(h.responses(), [], 'no 482');
    assert.equal((await h.command('answer', { v: 1, call: events[0]?.call, action: 'answer', sdp: SDP_ANSWER })).ok, true);
    const [ok] = h.responses();
    assert.deepEqual([ok?.msg.status, ok?.out.txn, ok?.msg.cseq.seq], [200, retry.txn, 2]);
    // Its in-dialog requests find the new call.
    d.toTag = ok?.msg.to.tag;
    await h.send(envelope(req('ACK', d, 2), { txn: null }));
    await h.send(envelope(req('BYE', d, 3)));
    assert.deepEqual(h.responses().map((r) => [r.msg.cseq.method, r.msg.status]), [['BYE', 200]]);
    assert.deepEqual(h.callEvents().map((e) => e.event), ['answered', 'confirmed', 'ended']);
  });

  it('a new INVITE (other CSeq) while the call of its Call-ID and From tag is in progress gets 500 with Retry-After, not 482', async () => {
    const h = harness();
    const d: Dlg = { callId: 'rd-pending', fromTag: 'a8' };
    await h.send(envelope(invite(d)));
    assert.equal(h.callEvents().length, 1);
    await h.send(envelope(req('INVITE', d, 2, { body: SDP_OFFER })));
    const [r] = h.responses();
    assert.equal(r?.msg.status, 500);
    const after = Number(r?.msg.getHeader('Retry-After'));
    assert.ok(Number.isInteger(after) && after >= 0 && after <= 10, `Retry-After ${after}`);
    assert.deepEqual(h.callEvents(), []);
    assert.equal(h.calls.size, 1);
  });

  it('a dialog index without its call (the first delivery died between the writes) is adopted: the call gets that id', async () => {
    const h = harness();
    const d: Dlg = { callId: 'rd-5', fromTag: 'a5' };
    assert.equal(await h.calls.claimIndex(d.callId, d.fromTag, 'orphan-call'), true);
    await h.send(envelope(invite(d)));
    const events = h.callEvents();
    assert.deepEqual(events.map((e) => [e.event, e.call]), [['offer', 'orphan-call']]);
    assert.deepEqual(h.responses(), []);
  });

  it('the same BYE again (its 200 was lost) gets 200 again, and the call ends once', async () => {
    const h = harness();
    const d: Dlg = { callId: 'rd-6', fromTag: 'a6' };
    await confirmedCall(h, d);
    const bye = envelope(req('BYE', d, 2));
    await h.send(bye);
    await h.send({ ...bye, attempt: 2 });
    await h.send(envelope(req('BYE', d, 2))); // the peer's new transaction for the same BYE
    assert.deepEqual(h.responses().map((r) => [r.msg.cseq.method, r.msg.status]), [
      ['BYE', 200],
      ['BYE', 200],
      ['BYE', 200],
    ]);
    assert.deepEqual(h.callEvents().map((e) => e.event), ['ended']);
    // A BYE with an older CSeq is still out of order.
    await h.send(envelope(req('BYE', d, 1)));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [500]);
    // The peer trying again with a new CSeq (its first BYE got a 503 although the end was written,
    // during a NATS failover): the dialog it ended is gone as asked, so 200, not 481, and the end
    // is carried out (here a second time: this harness's first BYE did get its 200).
    await h.send(envelope(req('BYE', d, 3)));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    assert.deepEqual(h.callEvents().map((e) => [e.event, e.cause]), [['ended', 'NORMAL_CLEARING']]);
    // That BYE delivered again is only answered.
    await h.send(envelope(req('BYE', d, 3)));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    assert.deepEqual(h.callEvents(), []);
  });

  it('a BYE whose end was written but not confirmed (503) and the peer\'s next BYE: 200, then the end is carried out once (ended event, removal noted)', async () => {
    const calls = new LandedUnconfirmedStore();
    const h = harness({}, { calls });
    const d: Dlg = { callId: 'rd-7', fromTag: 'a7' };
    const call = await confirmedCall(h, d);
    calls.failNextWrite('ended');
    await h.send(envelope(req('BYE', d, 2)));
    const refused = h.responses();
    assert.deepEqual(refused.map((r) => [r.msg.status, r.msg.getHeader('Retry-After') !== undefined]), [[503, true]]);
    assert.deepEqual(h.callEvents(), [], 'the end was not confirmed: not carried out');
    assert.equal(h.app.removals.pending, 0);
    // The peer takes the 503 as final and sends the BYE again later, as a new request with a higher
    // CSeq (RFC 3261 §21.5.4: it may retry after Retry-After).
    await h.send(envelope(req('BYE', d, 3)));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    assert.deepEqual(h.callEvents().map((e) => [e.event, e.call, e.cause]), [['ended', call, 'NORMAL_CLEARING']]);
    assert.equal(h.app.removals.pending, 1, 'the call is listed for removal');
    // Its retransmission through another transaction is only answered.
    await h.send(envelope(req('BYE', d, 3)));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    assert.deepEqual(h.callEvents(), []);
  });
});
