import assert from 'node:assert/strict';
import { envelope, harness, sipText, type Harness } from './app-harness.js';
import { invite, req, SDP_ANSWER, SDP_OFFER, type Dlg } from './app-sip.js';
import { requests as sentRequests, respond as respondTo, settle, type Sent } from './app-uac-sip.js';
import { LandedUnconfirmedStore } from './support/landed-unconfirmed.js';

const TARGET = 'sip:bob@127.0.0.2:5070';
const NEW_OFFER = SDP_OFFER.replace('4000', '4002');

/** An inbound INVITE with this Max-Forwards, offered; returns the call id. */
async function offered(h: Harness, d: Dlg, maxForwards = 70): Promise<string> {
  await h.send(envelope(Buffer.from(invite(d).toString('latin1').replace('Max-Forwards: 70\r\n', `Max-Forwards: ${maxForwards}\r\n`), 'latin1')));
  const [offer] = h.callEvents();
  assert.equal(offer?.event, 'offer');
  return offer.call;
}

/** Bridges the call to TARGET; returns the leg's INVITE. */
async function bridged(h: Harness, call: string): Promise<Sent> {
  const seen = h.messaging.published.length;
  assert.deepEqual(await h.command('bridge', { v: 1, call, action: 'bridge', target: TARGET }), { v: 1, ok: true, call });
  await settle(h);
  const [leg] = sentRequests(h, seen);
  assert.equal(leg?.msg.method, 'INVITE');
  return leg;
}

/** A bridged call that is up: the leg answered, the caller ACKed. */
async function connected(h: Harness, d: Dlg): Promise<{ call: string; leg: Sent }> {
  const call = await offered(h, d);
  const leg = await bridged(h, call);
  await respondTo(h, leg, 200, 'OK', { toTag: 'b1', extra: ['Contact: <sip:bob@127.0.0.2:5070>'], body: SDP_ANSWER });
  const ok = h.responses().find((r) => r.msg.status === 200 && r.msg.cseq.method === 'INVITE');
  assert.ok(ok, 'the caller got the 200');
  d.toTag = ok.msg.to.tag;
  await h.send(envelope(req('ACK', d, 1), { txn: null }));
  await settle(h);
  h.callEvents();
  return { call, leg };
}

describe('ua app: bridge (B2BUA) Max-Forwards', () => {
  it('the leg INVITE carries the inbound Max-Forwards minus one, capped at 70; the inbound value is stored with the call', async () => {
    const h = harness();
    const call = await offered(h, { callId: 'mf-1', fromTag: 'a' }, 12);
    assert.equal((await h.calls.get(call))?.value.maxForwards, 12);
    const leg = await bridged(h, call);
    assert.equal(leg.msg.maxForwards, 11);

    const high = await offered(h, { callId: 'mf-2', fromTag: 'a' }, 200);
    assert.equal((await bridged(h, high)).msg.maxForwards, 70);
  });

  it('an entry stored before the field existed (no maxForwards) bridges with the default 70', async () => {
    const h = harness();
    const call = await offered(h, { callId: 'mf-old', fromTag: 'a' }, 3);
    const stored = await h.calls.get(call);
    assert.ok(stored);
    const { maxForwards: _dropped, ...old } = stored.value;
    assert.ok((await h.calls.update(old, stored.revision)) !== undefined);
    assert.equal((await bridged(h, call)).msg.maxForwards, 70);
  });

  it('inbound Max-Forwards 1: no leg (it would get 0); the caller gets 483 Too Many Hops and the bridge command says why', async () => {
    const h = harness();
    const call = await offered(h, { callId: 'mf-loop', fromTag: 'a' }, 1);
    const seen = h.messaging.published.length;
    const reply = await h.command('bridge', { v: 1, call, action: 'bridge', target: TARGET });
    assert.equal(reply.ok, false);
    assert.equal(reply.code, 'BAD_STATE');
    assert.match(reply.error ?? '', /483 Too Many Hops/);
    await settle(h);
    assert.deepEqual(sentRequests(h, seen), [], 'no leg INVITE');
    const [final] = h.responses();
    assert.equal(final?.msg.status, 483);
    assert.equal(final.msg.reason, 'Too Many Hops');
    const ended = h.callEvents().find((e) => e.event === 'ended');
    assert.equal(ended?.status, 483);
    assert.equal((await h.calls.get(call))?.value.bridge, undefined);
  });
});

describe('ua app: bridge (B2BUA) offer refused by the other side (RFC 3261 §14)', () => {
  it("the caller's re-INVITE, relayed, refused by the callee with 488: the caller gets 488; the call and both sessions stay", async () => {
    const h = harness();
    const d: Dlg = { callId: 'ref-1', fromTag: 'a' };
    const { call, leg } = await connected(h, d);
    const reinvite = envelope(req('INVITE', d, 2, { body: NEW_OFFER }));
    const seen = h.messaging.published.length;
    await h.send(reinvite);
    await settle(h);
    const [relayed] = sentRequests(h, seen);
    assert.equal(relayed?.msg.method, 'INVITE');
    assert.equal(relayed.msg.callId, leg.msg.callId);
    assert.equal(Buffer.from(relayed.msg.body).toString(), NEW_OFFER);
    h.responses();

    await respondTo(h, relayed, 488, 'Not Acceptable Here');
    const refused = h.responses();
    assert.deepEqual(refused.map((r) => [r.msg.status, r.msg.cseq.seq, r.msg.cseq.method, r.out.txn]), [[488, 2, 'INVITE', reinvite.txn]]);
    assert.equal(refused[0]?.msg.to.tag, d.toTag);
    const [inbound, out] = await Promise.all([h.calls.get(call), h.calls.get(`${call}-b1`)]);
    assert.equal(inbound?.value.dialog.phase, 'confirmed');
    assert.equal(inbound.value.dialog.incoming, undefined);
    assert.equal(inbound.value.dialog.remoteSdp, SDP_OFFER, 'the refused offer is not the session');
    assert.equal(out?.value.dialog.phase, 'confirmed');
    assert.equal(out.value.dialog.localSdp, SDP_OFFER, "the leg's local SDP is the one last agreed, not the refused offer");
    assert.equal(out.value.bridgeOf, call);
    assert.deepEqual(inbound.value.bridge?.failed, [], 'a refused offer is no failed leg');
    assert.ok(!sentRequests(h, seen).some((r) => r.msg.method === 'BYE'), 'nobody hung up');
  });

  it("the callee's re-INVITE, relayed, refused by the caller: the callee gets that status; the legs are not hung up", async () => {
    const h = harness();
    const d: Dlg = { callId: 'ref-2', fromTag: 'a' };
    const { call, leg } = await connected(h, d);
    const m = leg.msg;
    const fromCallee = envelope(
      sipText(
        [
          'INVITE sip:sipnats@127.0.0.1:5060 SIP/2.0',
          'Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-callee-reinvite',
          'Max-Forwards: 70',
          `From: ${m.to.raw};tag=b1`,
          `To: ${m.from.raw}`,
          `Call-ID: ${m.callId}`,
          'CSeq: 1 INVITE',
          'Contact: <sip:bob@127.0.0.2:5070>',
          'Content-Type: application/sdp',
        ],
        NEW_OFFER,
      ),
    );
    const seen = h.messaging.published.length;
    await h.send(fromCallee);
    await settle(h);
    const [relayed] = sentRequests(h, seen);
    assert.equal(relayed?.msg.method, 'INVITE');
    assert.equal(relayed.msg.callId, d.callId, 'the offer goes to the caller');
    h.responses();

    await respondTo(h, relayed, 606, 'Not Acceptable');
    const refused = h.responses();
    assert.deepEqual(refused.map((r) => [r.msg.status, r.msg.callId, r.out.txn]), [[606, m.callId, fromCallee.txn]]);
    assert.ok(!sentRequests(h, seen).some((r) => r.msg.method === 'BYE' || r.msg.method === 'CANCEL'), 'the legs are not hung up');
    const [inbound, out] = await Promise.all([h.calls.get(call), h.calls.get(`${call}-b1`)]);
    assert.equal(inbound?.value.dialog.phase, 'confirmed');
    assert.equal(inbound.value.dialog.localSdp, SDP_ANSWER, "the caller side's local SDP stays the one agreed");
    assert.equal(out?.value.dialog.phase, 'confirmed');
    assert.equal(out.value.dialog.incoming, undefined);
    assert.equal(out.value.dialog.remoteSdp, SDP_ANSWER);
    assert.ok(!h.callEvents().some((e) => e.event === 'ended'));
  });

  it('a challenge (401) to the relayed offer means nothing to the caller: 488', async () => {
    const h = harness();
    const d: Dlg = { callId: 'ref-3', fromTag: 'a' };
    await connected(h, d);
    const seen = h.messaging.published.length;
    await h.send(envelope(req('UPDATE', d, 2, { body: NEW_OFFER })));
    await settle(h);
    const [relayed] = sentRequests(h, seen);
    assert.equal(relayed?.msg.method, 'INVITE');
    h.responses();
    await respondTo(h, relayed, 401, 'Unauthorized', { extra: ['WWW-Authenticate: Digest realm="x", nonce="n"'] });
    assert.deepEqual(h.responses().map((r) => [r.msg.status, r.msg.cseq.method]), [[488, 'UPDATE']]);
  });
});

describe('ua app: bridge, a BYE whose end was written but not confirmed', () => {
  it("the caller's BYE gets 503 and ends nothing else; its next BYE gets 200 and the callee's leg gets BYE, once", async () => {
    const calls = new LandedUnconfirmedStore();
    const h = harness({}, { calls });
    const d: Dlg = { callId: 'br-landed', fromTag: 'c9' };
    const { call } = await connected(h, d);
    calls.failNextWrite('ended', call);
    const seen = h.messaging.published.length;
    await h.send(envelope(req('BYE', d, 2)));
    await settle(h);
    assert.deepEqual(h.responses().map((r) => r.msg.status), [503]);
    assert.ok(!sentRequests(h, seen).some((r) => r.msg.method === 'BYE'), 'the callee is not hung up on an unconfirmed end');
    await h.send(envelope(req('BYE', d, 3)));
    await settle(h);
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    const byes = sentRequests(h, seen).filter((r) => r.msg.method === 'BYE');
    assert.equal(byes.length, 1, 'the callee gets one BYE');
    assert.equal(byes[0]?.msg.to.tag, 'b1');
    await h.send(envelope(req('BYE', d, 3)));
    await settle(h);
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    assert.equal(sentRequests(h, seen).filter((r) => r.msg.method === 'BYE').length, 1, 'no second BYE to the callee');
  });
});
