/**
 * Late offer through build() (fake messaging, memory stores): an originate without SDP answered by
 * the controller, and a bridge of an inbound INVITE without SDP (the callee's 2xx offer goes to the
 * caller, the caller's ACK answer to the callee's ACK; an ACK without one ends both legs).
 */
import assert from 'node:assert/strict';
import { envelope, harness, type Harness } from './app-harness.js';
import { req, SDP_ANSWER, SDP_OFFER, type Dlg } from './app-sip.js';
import { requests, respond, settle, type Sent } from './app-uac-sip.js';

/** The callee's offer in its 2xx (the ua made none). */
const CALLEE_OFFER = SDP_OFFER.replace('o=alice', 'o=callee').replace('4000', '7100');
/** The caller's answer in its ACK. */
const CALLER_ANSWER = SDP_ANSWER.replace('o=ua', 'o=caller').replace('5000', '4100');

const body = (s: Sent): string => Buffer.from(s.msg.body).toString();

describe('ua app: late offer (RFC 3261 §13.2.1)', () => {
  it('originate without sdp: INVITE without body; the 2xx offer in answered; the ACK waits for the answer command and carries it', async () => {
    const h = harness();
    const reply = await h.command('originate', { v: 1, call: 'lo1', action: 'originate', from: 'sip:alice@example.com', to: 'sip:bob@127.0.0.1:5070' });
    assert.deepEqual(reply, { v: 1, ok: true, call: 'lo1' });
    const [inv] = requests(h);
    assert.equal(inv?.msg.method, 'INVITE');
    assert.equal(inv.msg.body.byteLength, 0);
    assert.equal(inv.msg.getHeader('Content-Type'), undefined);
    assert.equal(inv.msg.getHeader('Supported'), 'timer');

    let seen = h.messaging.published.length;
    await respond(h, inv, 200, 'OK', { toTag: 'b1', extra: ['Contact: <sip:bob@127.0.0.1:5070>'], body: CALLEE_OFFER });
    assert.deepEqual(requests(h, seen), [], 'no ACK before the answer');
    const [answered] = h.callEvents();
    assert.equal(answered?.event, 'answered');
    assert.equal(answered.sdp, CALLEE_OFFER);
    assert.equal(await h.calls.get('lo1'), undefined, 'no call entry before the ACK');

    seen = h.messaging.published.length;
    assert.deepEqual(await h.command('answer', { v: 1, call: 'lo1', action: 'answer', sdp: SDP_ANSWER }), { v: 1, ok: true, call: 'lo1' });
    const [ack] = requests(h, seen);
    assert.equal(ack?.msg.method, 'ACK');
    assert.equal(ack.subject, 'sip.out.t1');
    assert.equal(ack.reply, undefined);
    assert.equal(ack.msg.cseq.seq, inv.msg.cseq.seq);
    assert.equal(ack.msg.getHeader('Content-Type'), 'application/sdp');
    assert.equal(body(ack), SDP_ANSWER);
    assert.deepEqual(h.callEvents().map((e) => e.event), ['confirmed']);
    const entry = await h.calls.get('lo1');
    assert.equal(entry?.value.dialog.localSdp, SDP_ANSWER);
    assert.equal(entry.value.dialog.remoteSdp, CALLEE_OFFER);

    assert.equal((await h.command('answer', { v: 1, call: 'lo1', action: 'answer', sdp: SDP_ANSWER })).code, 'CONFLICT');
    seen = h.messaging.published.length;
    assert.equal((await h.command('hangup', { v: 1, call: 'lo1', action: 'hangup' })).ok, true);
    assert.deepEqual(requests(h, seen).map((r) => r.msg.method), ['BYE']);
  });

  /** An inbound INVITE without SDP bridged to sip:bob@127.0.0.1:5070: the caller's dialog, the call and the leg's INVITE. */
  async function bridged(h: Harness, d: Dlg): Promise<{ call: string; leg: Sent }> {
    await h.send(envelope(req('INVITE', d, 1)));
    const [offer] = h.callEvents();
    assert.equal(offer?.event, 'offer');
    assert.equal(offer.sdp, undefined);
    const seen = h.messaging.published.length;
    const r = await h.command('bridge', { v: 1, action: 'bridge', call: offer.call, target: 'sip:bob@127.0.0.1:5070' });
    assert.equal(r.ok, true, JSON.stringify(r));
    const [leg] = requests(h, seen);
    assert.equal(leg?.msg.method, 'INVITE');
    assert.equal(leg.msg.body.byteLength, 0, 'the leg INVITE carries no SDP either');
    return { call: offer.call, leg };
  }

  it('bridge: the leg\'s early SDP gives the caller a 180; its 2xx offer reaches the caller in our 200; the caller\'s ACK answer goes in the leg\'s ACK', async () => {
    const h = harness();
    const d: Dlg = { callId: 'lo-in-1', fromTag: 'caller1' };
    const { call, leg } = await bridged(h, d);
    h.responses();
    await respond(h, leg, 183, 'Session Progress', { toTag: 'b1', extra: ['Contact: <sip:bob@127.0.0.1:5070>'], body: CALLEE_OFFER });
    const [ringing] = h.responses();
    assert.equal(ringing?.msg.status, 180);
    assert.equal(ringing.msg.body.byteLength, 0, 'no SDP in a provisional to a late-offer caller');

    let seen = h.messaging.published.length;
    await respond(h, leg, 200, 'OK', { toTag: 'b1', extra: ['Contact: <sip:bob@127.0.0.1:5070>'], body: CALLEE_OFFER });
    const [ok] = h.responses();
    assert.equal(ok?.msg.status, 200);
    assert.equal(Buffer.from(ok.msg.body).toString(), CALLEE_OFFER, 'the callee\'s offer is in the 200 to the caller');
    assert.deepEqual(requests(h, seen), [], 'the leg\'s ACK waits for the caller\'s');
    d.toTag = ok.msg.to.tag;

    seen = h.messaging.published.length;
    await h.send(envelope(req('ACK', d, 1, { body: CALLER_ANSWER }), { txn: null }));
    await settle(h);
    const acks = requests(h, seen).filter((r) => r.msg.method === 'ACK');
    assert.equal(acks.length, 1);
    assert.equal(acks[0]?.msg.callId, leg.msg.callId);
    assert.equal(acks[0] === undefined ? '' : body(acks[0]), CALLER_ANSWER);
    const [inbound, out] = await Promise.all([h.calls.get(call), h.calls.get(`${call}-b1`)]);
    assert.equal(inbound?.value.dialog.phase, 'confirmed');
    assert.equal(inbound.value.dialog.remoteSdp, CALLER_ANSWER);
    assert.equal(out?.value.dialog.phase, 'confirmed');
    assert.equal(out.value.dialog.localSdp, CALLER_ANSWER);
    assert.equal(out.value.dialog.remoteSdp, CALLEE_OFFER);
  });

  it('bridge: the caller\'s ACK without the answer ends both legs (BYE to the caller; ACK refusing the offer and BYE to the callee), cause MANDATORY_IE_MISSING', async () => {
    const h = harness();
    const d: Dlg = { callId: 'lo-in-2', fromTag: 'caller2' };
    const { call, leg } = await bridged(h, d);
    await respond(h, leg, 200, 'OK', { toTag: 'b1', extra: ['Contact: <sip:bob@127.0.0.1:5070>'], body: CALLEE_OFFER });
    d.toTag = h.responses().find((r) => r.msg.status === 200)?.msg.to.tag;
    h.callEvents();

    const seen = h.messaging.published.length;
    await h.send(envelope(req('ACK', d, 1), { txn: null }));
    await settle(h);
    const sent = requests(h, seen);
    const toCaller = sent.filter((r) => r.msg.callId === d.callId).map((r) => r.msg.method);
    const toCallee = sent.filter((r) => r.msg.callId === leg.msg.callId);
    assert.deepEqual(toCaller, ['BYE']);
    assert.deepEqual(toCallee.map((r) => r.msg.method), ['ACK', 'BYE']);
    const refusal = toCallee[0] === undefined ? '' : body(toCallee[0]);
    assert.match(refusal, /\r\nm=audio 0 RTP\/AVP 0\r\n/, 'a valid answer refusing the stream (RFC 3264 §6)');
    for (const r of [...sent.filter((x) => x.msg.method === 'BYE')]) assert.match(r.msg.getHeader('Reason') ?? '', /^Q\.850;cause=96;/);
    const ended = h.callEvents().filter((e) => e.event === 'ended');
    assert.deepEqual(ended.map((e) => [e.call, e.cause]).sort(), [[call, 'MANDATORY_IE_MISSING'], [`${call}-b1`, 'MANDATORY_IE_MISSING']]);
  });

  it('bridge of an early offer is unchanged: the leg INVITE carries the caller\'s SDP and its 2xx is ACKed at once', async () => {
    const h = harness();
    const d: Dlg = { callId: 'eo-in', fromTag: 'caller3' };
    await h.send(envelope(req('INVITE', d, 1, { body: SDP_OFFER })));
    const [offer] = h.callEvents();
    assert.ok(offer !== undefined);
    const seen = h.messaging.published.length;
    assert.equal((await h.command('bridge', { v: 1, action: 'bridge', call: offer.call, target: 'sip:bob@127.0.0.1:5070' })).ok, true);
    const [leg] = requests(h, seen);
    assert.ok(leg !== undefined);
    assert.equal(body(leg), SDP_OFFER);
    assert.match(leg.msg.getHeader('Supported') ?? '', /100rel/);
    const before = h.messaging.published.length;
    await respond(h, leg, 200, 'OK', { toTag: 'b1', extra: ['Contact: <sip:bob@127.0.0.1:5070>'], body: SDP_ANSWER });
    const ack = requests(h, before).find((r) => r.msg.method === 'ACK');
    assert.ok(ack !== undefined);
    assert.equal(ack.msg.body.byteLength, 0);
  });
});
