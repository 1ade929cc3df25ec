/**
 * `bridge` end to end (B2BUA): SIPp UAS instances register (test/sipp/uac-register-contact.xml)
 * as alice (two contacts), carol (two contacts) and bob; a SIPp UAC calls them through the real
 * transport; a controller on NATS bridges every `offer`; the ua forks to every contact.
 */
import assert from 'node:assert/strict';
import { startBridgeFixture, type BridgeFixture } from '../support/bridge-fixture.js';

describe('ua bridge: SIPp caller → transport → ua (B2BUA) → registered SIPp callees', function () {
  this.timeout(60_000);
  let f: BridgeFixture;

  before(async () => {
    f = await startBridgeFixture('br');
  });

  after(async () => {
    await f?.stop();
  });

  it('alice with two contacts: both ring, one answers, the other gets CANCEL; ACK and BYE pass end to end', async () => {
    const answer = await f.callee('alice', 'uas-branch-answer.xml');
    const ring = await f.callee('alice', 'uas-branch-ring.xml');
    const r = await f.caller('ua-call.xml', 'alice');
    assert.equal(r.code, 0, f.explain(r, 'caller'));
    const [a, b] = await Promise.all([answer.done, ring.done]);
    assert.equal(a.code, 0, f.explain(a, 'answering branch'));
    assert.equal(b.code, 0, f.explain(b, 'ringing branch'));
    assert.ok(f.replies.every((x) => x.ok), JSON.stringify(f.replies));
    // The answering branch's SDP reached the caller; both sides ended (caller's BYE propagated).
    const inbound = f.events.find((e) => e.direction === 'inbound' && e.event === 'offer' && e.to.uri.includes('alice'));
    assert.ok(inbound !== undefined);
    const ofCall = (call: string): string[] => f.events.filter((e) => e.call === call).map((e) => e.event);
    const deadline = Date.now() + 3000;
    while (!ofCall(inbound.call).includes('ended') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const toCaller = f.raw.find((m) => m.startsWith('SIP/2.0 200 ') && m.includes(`Call-ID: ${inbound.sipCallId}\r\n`) && m.includes(' INVITE\r\n'));
    assert.match(toCaller ?? '', /m=audio 7100 /, 'the 200 to the caller carries the answering branch SDP');
    assert.ok(ofCall(inbound.call).includes('ended'), ofCall(inbound.call).join(','));
    const legs = [`${inbound.call}-b1`, `${inbound.call}-b2`].map(ofCall);
    assert.ok(legs.some((l) => l.includes('answered') && l.includes('ended')), JSON.stringify(legs));
    assert.ok(legs.some((l) => l.includes('cancelled')), JSON.stringify(legs));
  });

  it("the caller's CANCEL during ringing reaches every branch", async () => {
    const one = await f.callee('carol', 'uas-branch-ring.xml');
    const two = await f.callee('carol', 'uas-branch-ring.xml');
    const r = await f.caller('ua-call-cancel.xml', 'carol');
    assert.equal(r.code, 0, f.explain(r, 'caller'));
    const [a, b] = await Promise.all([one.done, two.done]);
    assert.equal(a.code, 0, f.explain(a, 'branch 1'));
    assert.equal(b.code, 0, f.explain(b, 'branch 2'));
  });

  it("the caller's DTMF INFO reaches the answering callee", async () => {
    const frank = await f.callee('frank', 'uas-branch-info.xml');
    const r = await f.caller('uac-call-info.xml', 'frank');
    assert.equal(r.code, 0, f.explain(r, 'caller'));
    const c = await frank.done;
    assert.equal(c.code, 0, f.explain(c, 'callee'));
  });

  it("the caller's re-INVITE is relayed: the callee gets the new offer, the caller its answer", async () => {
    const gina = await f.callee('gina', 'uas-branch-reinvite.xml');
    const r = await f.caller('uac-call-reinvite-relay.xml', 'gina');
    assert.equal(r.code, 0, f.explain(r, 'caller'));
    const g = await gina.done;
    assert.equal(g.code, 0, f.explain(g, 'callee'));
  });

  it("the caller's CANCEL of its relayed re-INVITE gets 487 (RFC 3261 §9.2); the callee's late answer is undone by a re-INVITE with the session that holds", async () => {
    const hank = await f.callee('hank', 'uas-branch-reinvite-cancelled.xml');
    const r = await f.caller('uac-call-reinvite-cancel.xml', 'hank');
    assert.equal(r.code, 0, f.explain(r, 'caller'));
    const h = await hank.done;
    assert.equal(h.code, 0, f.explain(h, 'callee'));
  });

  it("a busy callee's 486 reaches the caller", async () => {
    const busy = await f.callee('bob', 'uas-branch-busy.xml');
    const r = await f.caller('ua-call-busy.xml', 'bob');
    const b = await busy.done;
    assert.equal(b.code, 0, f.explain(b, 'busy branch'));
    assert.equal(r.code, 0, f.explain(r, 'caller'));
  });
});
