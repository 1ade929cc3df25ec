/**
 * Offers across a bridge (B2BUA), end to end with SIPp on both sides: registered SIPp callees, a
 * SIPp caller through the real transport, a controller on NATS that bridges every `offer`.
 * - A re-INVITE the callee refuses (488) is refused to the caller too (RFC 3261 §14), and the
 *   session that holds is still the one both sides agreed on (§14.1): the callee's later refresh
 *   gets the caller's first offer back, never the refused one.
 * - A callee that answers the leg's INVITE with 422 (RFC 4028 §6) gets it again with Session-Expires
 *   and Min-SE raised to its Min-SE (§7.3), and the call goes through.
 */
import assert from 'node:assert/strict';
import type { CallEvent } from '@sipnats/contracts';
import { startBridgeFixture, type BridgeFixture } from '../support/bridge-fixture.js';

describe('ua bridge: offers refused or retried across the bridge (SIPp on both sides)', function () {
  this.timeout(60_000);
  let f: BridgeFixture;

  before(async () => {
    f = await startBridgeFixture('offers');
  });

  after(async () => {
    await f?.stop();
  });

  it("the callee's 488 to the relayed re-INVITE reaches the caller; the session stays the first one agreed (RFC 3261 §14)", async () => {
    const ida = await f.callee('ida', 'uas-branch-reinvite-refuse.xml');
    const r = await f.caller('uac-call-reinvite-refused.xml', 'ida');
    assert.equal(r.code, 0, f.explain(r, 'caller'));
    const c = await ida.done;
    assert.equal(c.code, 0, f.explain(c, 'callee'));
    const inbound = f.events.find((e) => e.direction === 'inbound' && e.event === 'offer' && e.to.uri.includes('ida'));
    assert.ok(inbound !== undefined);
    const of = (call: string): CallEvent[] => f.events.filter((e) => e.call === call);
    const deadline = Date.now() + 5000;
    while (!of(inbound.call).some((e) => e.event === 'ended') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    // The refused offer is reported on the leg as an update with its status (not `failed`: the call
    // goes on); both sides end only with the caller's BYE.
    const leg = of(`${inbound.call}-b1`).map((e) => `${e.event}${e.status === undefined ? '' : ` ${e.status}`}`);
    assert.deepEqual(leg.filter((e) => e === 'updated 488' || e.startsWith('failed') || e.startsWith('ended')), ['updated 488', 'ended'], leg.join(', '));
    const ended = of(inbound.call).filter((e) => e.event === 'ended');
    assert.deepEqual(ended.map((e) => e.cause), ['NORMAL_CLEARING'], f.explain(r, 'caller'));
  });

  it("a callee's 422 gets the leg's INVITE again with Session-Expires and Min-SE raised to its Min-SE (RFC 4028 §7.3)", async () => {
    const jo = await f.callee('jo', 'uas-branch-422.xml');
    const r = await f.caller('ua-call.xml', 'jo');
    assert.equal(r.code, 0, f.explain(r, 'caller'));
    const c = await jo.done;
    assert.equal(c.code, 0, f.explain(c, 'callee'));
  });
});
