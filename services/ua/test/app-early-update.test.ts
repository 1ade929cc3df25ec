import assert from 'node:assert/strict';
import { envelope, harness } from './app-harness.js';
import { invite, req, SDP_ANSWER, SDP_OFFER, type Dlg } from './app-sip.js';

describe('ua app: offers in an early dialog (RFC 3311 §5.2, RFC 3262)', () => {
  it('an UPDATE offer after a PRACKed 183 with SDP gets 500 + Retry-After and never answers the INVITE', async () => {
    const h = harness(); // policy accept: a pending peer offer of a call that is up is accepted at once
    const d: Dlg = { callId: 'c-early-upd', fromTag: 'a' };
    const inv = envelope(invite(d, ['Supported: 100rel']));
    await h.send(inv);
    const [offer] = h.callEvents();
    assert.equal(offer?.event, 'offer');
    const call = offer.call;

    assert.equal((await h.command('ring', { v: 1, call, action: 'ring', status: 183, sdp: SDP_ANSWER, reliable: true })).ok, true);
    const [early] = h.responses();
    assert.equal(early?.msg.status, 183);
    d.toTag = early?.msg.to.tag;
    const rseq = early?.msg.getHeader('RSeq');
    await h.send(envelope(req('PRACK', d, 2, { extra: [`RAck: ${rseq} 1 INVITE`] })));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    h.callEvents();

    const update = envelope(req('UPDATE', d, 3, { body: SDP_OFFER.replace('4000', '4002') }));
    await h.send(update);
    const rs = h.responses();
    assert.deepEqual(rs.map((r) => [r.msg.status, r.out.txn]), [[500, update.txn]]);
    assert.match(rs[0]?.msg.getHeader('Retry-After') ?? '', /^([0-9]|10)$/);
    assert.deepEqual(h.callEvents(), []);

    // The call still waits for its controller, whose answer goes to the INVITE.
    assert.equal((await h.command('answer', { v: 1, call, action: 'answer', sdp: SDP_ANSWER })).ok, true);
    assert.deepEqual(h.responses().map((r) => [r.msg.status, r.out.txn]), [[200, inv.txn]]);
  });
});
