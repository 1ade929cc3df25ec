import assert from 'node:assert/strict';
import { envelope, harness } from './app-harness.js';
import { invite, req, SDP_ANSWER, SDP_OFFER, type Dlg } from './app-sip.js';

async function offered(h: ReturnType<typeof harness>, d: Dlg, extra: string[] = []): Promise<{ call: string; txn: string }> {
  const e = envelope(invite(d, ['X-Customer: 42', ...extra]));
  await h.send(e);
  const [offer] = h.callEvents();
  assert.equal(offer?.event, 'offer');
  return { call: offer.call, txn: e.txn ?? '' };
}

describe('ua app: inbound calls', () => {
  it('INVITE → offer (SDP, X- headers) → ring → answer → ACK → BYE → ended', async () => {
    const h = harness();
    const d: Dlg = { callId: 'c1', fromTag: 'a1' };
    const { call, txn } = await offered(h, d);
    const offer = h.messaging.take('sip.evt.call.offer');
    assert.equal(offer.length, 1);

    assert.deepEqual(await h.command('ring', { v: 1, call, action: 'ring' }), { v: 1, ok: true, call, status: 180 });
    const [ringing] = h.responses();
    assert.equal(ringing?.msg.status, 180);
    assert.equal(ringing?.out.txn, txn);

    const answered = await h.command('answer', { v: 1, call, action: 'answer', sdp: SDP_ANSWER });
    assert.equal(answered.ok, true);
    const [ok] = h.responses();
    assert.equal(ok?.msg.status, 200);
    assert.equal(ok?.out.retransmit2xx, true);
    assert.equal(Buffer.from(ok?.msg.body ?? []).toString(), SDP_ANSWER);
    d.toTag = ok?.msg.to.tag;

    await h.send(envelope(req('ACK', d, 1), { txn: null }));
    await h.send(envelope(req('BYE', d, 2)));
    const [byeOk] = h.responses();
    assert.equal(byeOk?.msg.status, 200);
    const evs = h.callEvents();
    assert.deepEqual(evs.map((e) => e.event), ['ringing', 'answered', 'confirmed', 'ended']);
    const ended = evs.find((e) => e.event === 'ended');
    assert.equal(ended?.cause, 'NORMAL_CLEARING');
    assert.equal(ended?.headers?.['X-Customer'], '42');
    assert.equal(h.callEvents().length, 0);
  });

  it('hangup of a confirmed call sends BYE through the flow\'s transport with a reply inbox; ended once', async () => {
    const h = harness();
    const d: Dlg = { callId: 'c-bye', fromTag: 'a' };
    const { call } = await offered(h, d);
    await h.command('answer', { v: 1, call, action: 'answer', sdp: SDP_ANSWER });
    d.toTag = h.responses()[0]?.msg.to.tag;
    await h.send(envelope(req('ACK', d, 1), { txn: null }));
    h.callEvents();
    assert.equal((await h.command('hangup', { v: 1, call, action: 'hangup' })).ok, true);
    const sent = h.messaging.take('sip.out.t1').map((p) => ({ p, out: JSON.parse(Buffer.from(p.data).toString()) as { kind: string; raw: string; flow?: { id: string } } }));
    const bye = sent.find((s) => s.out.kind === 'request');
    assert.ok(bye);
    assert.match(Buffer.from(bye.out.raw, 'base64').toString(), /^BYE sip:alice@127\.0\.0\.1:5070 SIP\/2\.0/);
    assert.equal(bye.out.flow?.id, 'udp0/127.0.0.1:5070');
    assert.ok(bye.p.reply?.startsWith('_INBOX.test.'));
    assert.deepEqual(h.callEvents().map((e) => e.event), ['ended']);
    assert.equal((await h.command('hangup', { v: 1, call, action: 'hangup' })).code, 'BAD_STATE');
  });

  it('offer carries the caller, callee, Call-ID and the SDP', async () => {
    const h = harness();
    await h.send(envelope(invite({ callId: 'c-offer', fromTag: 'a' }, ['X-Tenant: blue'])));
    const [offer] = h.callEvents();
    assert.equal(offer?.sipCallId, 'c-offer');
    assert.equal(offer?.from.uri, 'sip:alice@127.0.0.1');
    assert.equal(offer?.from.display, 'Alice');
    assert.equal(offer?.to.uri, 'sip:bob@127.0.0.1');
    assert.equal(offer?.sdp, SDP_OFFER);
    assert.equal(offer?.headers?.['X-Tenant'], 'blue');
    assert.equal(offer?.direction, 'inbound');
  });

  it('reject 486 answers the INVITE; a second controller then gets CONFLICT and nothing is sent', async () => {
    const h = harness();
    const { call } = await offered(h, { callId: 'c2', fromTag: 'a' });
    assert.equal((await h.command('reject', { v: 1, call, action: 'reject', status: 486 })).ok, true);
    assert.equal(h.responses()[0]?.msg.status, 486);
    const again = await h.command('answer', { v: 1, call, action: 'answer', sdp: SDP_ANSWER });
    assert.equal(again.ok, false);
    assert.ok(again.code === 'CONFLICT' || again.code === 'BAD_STATE');
    assert.equal(h.responses().length, 0);
  });

  it('two answers racing: exactly one wins', async () => {
    const h = harness();
    const { call } = await offered(h, { callId: 'c-race', fromTag: 'a' });
    const cmd = Buffer.from(JSON.stringify({ v: 1, call, action: 'answer', sdp: SDP_ANSWER }));
    h.messaging.deliver('sip.cmd.call.answer', cmd, '_INBOX.r1');
    h.messaging.deliver('sip.cmd.call.answer', cmd, '_INBOX.r2');
    await h.idle();
    const replies = h.messaging.published.filter((p) => p.subject.startsWith('_INBOX.r')).map((p) => JSON.parse(Buffer.from(p.data).toString()) as { ok: boolean; code?: string });
    assert.equal(replies.filter((r) => r.ok).length, 1);
    assert.equal(replies.filter((r) => !r.ok && r.code === 'CONFLICT').length, 1);
    assert.equal(h.responses().filter((r) => r.msg.status === 200).length, 1);
  });

  it('invalid command → INVALID naming the problem; unknown call → NOT_FOUND; action mismatch → INVALID', async () => {
    const h = harness();
    const bad = await h.command('reject', { v: 1, call: 'x', action: 'reject', status: 99 });
    assert.equal(bad.code, 'INVALID');
    assert.match(bad.error ?? '', /status/);
    const junk = await h.command('answer', 'not json at all');
    assert.equal(junk.code, 'INVALID');
    const missing = await h.command('hangup', { v: 1, call: 'no-such-call', action: 'hangup' });
    assert.equal(missing.code, 'NOT_FOUND');
    const mismatch = await h.command('hangup', { v: 1, call: 'x', action: 'ring' });
    assert.equal(mismatch.code, 'INVALID');
  });

  it('CANCEL → 487 on the INVITE transaction and a cancelled event; the CANCEL itself is not answered again', async () => {
    const h = harness();
    const d: Dlg = { callId: 'c3', fromTag: 'a' };
    const { txn } = await offered(h, d);
    await h.send(envelope(req('CANCEL', d, 1, { branch: `z9hG4bK-INVITE-1-${d.callId}` }), { cancels: txn }));
    const rs = h.responses();
    assert.deepEqual(rs.map((r) => [r.msg.status, r.out.txn]), [[487, txn]]);
    assert.deepEqual(h.callEvents().map((e) => e.event), ['cancelled']);
  });

  it('no controller: the configured final response when the answer timeout passes (timer from the stored entry)', async () => {
    const h = harness({ SIPNATS_ANSWER_TIMEOUT: '2s', SIPNATS_ANSWER_TIMEOUT_STATUS: '480' });
    const { txn } = await offered(h, { callId: 'c4', fromTag: 'a' });
    h.app.timers.stop(); // the local timer would use real time: drive the sweep by hand
    h.clock.advance(2500);
    const marked = await h.calls.dueMarks(h.clock.read(), 10);
    assert.equal(marked.length, 1);
    const { fireDueTimers } = await import('../src/runtime/call-timers.js');
    await fireDueTimers(h.app.ctx, marked[0]?.call ?? '', marked[0]);
    const [r] = h.responses();
    assert.equal(r?.msg.status, 480);
    assert.equal(r?.out.txn, txn);
    assert.deepEqual(h.callEvents().map((e) => [e.event, e.cause]), [['failed', 'NO_ANSWER']]);
    // The ended call has no mark (nothing is due but its removal); it stays for 64·T1, listed
    // for removal by this instance, whose local timer then removes it and drops the list.
    assert.equal(h.calls.marks.size, 0);
    assert.equal(h.calls.size, 1);
    await h.app.removals.flush(h.clock.read());
    assert.equal(h.calls.removalListCount, 1);
    h.clock.advance(64 * 500);
    await fireDueTimers(h.app.ctx, marked[0]?.call ?? '');
    assert.equal(h.calls.size, 0);
    h.clock.advance(1000); // the list of a second goes once that second is over
    await h.app.removals.flush(h.clock.read());
    assert.equal(h.calls.removalListCount, 0);
    assert.deepEqual(await h.calls.dueMarks(h.clock.read() + 3_600_000, 10), []);
  });

  it('INFO with application/dtmf-relay gives a dtmf event; re-INVITE is accepted with the last local SDP (policy accept)', async () => {
    const h = harness();
    const d: Dlg = { callId: 'c5', fromTag: 'a' };
    const { call } = await offered(h, d);
    await h.command('answer', { v: 1, call, action: 'answer', sdp: SDP_ANSWER });
    d.toTag = h.responses()[0]?.msg.to.tag;
    await h.send(envelope(req('ACK', d, 1), { txn: null }));
    h.callEvents();
    await h.send(envelope(req('INFO', d, 2, { contentType: 'application/dtmf-relay', body: 'Signal=5\r\nDuration=160\r\n' })));
    assert.equal(h.responses()[0]?.msg.status, 200);
    const [dtmf] = h.callEvents();
    assert.deepEqual([dtmf?.event, dtmf?.dtmf?.digit, dtmf?.dtmf?.duration], ['dtmf', '5', 160]);
    await h.send(envelope(req('INVITE', d, 3, { body: SDP_OFFER.replace('4000', '4002') })));
    const [reinv] = h.responses();
    assert.equal(reinv?.msg.status, 200);
    assert.equal(Buffer.from(reinv?.msg.body ?? []).toString(), SDP_ANSWER);
    assert.equal(h.callEvents()[0]?.event, 'updated');
  });
});
