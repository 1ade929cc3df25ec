import assert from 'node:assert/strict';
import { envelope, FLOW, harness, sipText } from './app-harness.js';
import { SDP_ANSWER, SDP_OFFER } from './app-sip.js';
import { requests, respond, VIA } from './app-uac-sip.js';
import { callOfOutboundCallId } from '../src/uac/call-id.js';

function originate(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, call: 'o1', action: 'originate', from: 'sip:alice@example.com', to: 'sip:bob@127.0.0.1:5070', sdp: SDP_OFFER, ...extra };
}

describe('ua app: originate (outbound calls as UAC)', () => {
  it('INVITE to any transport → 407 answered with credentials → 180 → 200 ACKed → peer BYE ends the call', async () => {
    const h = harness();
    const reply = await h.command('originate', originate({ credentials: { username: 'alice', password: 'secret' }, headers: { 'X-Job': '7' } }));
    assert.deepEqual(reply, { v: 1, ok: true, call: 'o1' });
    const [first] = requests(h);
    assert.equal(first?.subject, 'sip.out');
    assert.equal(first.msg.method, 'INVITE');
    assert.equal(first.msg.requestUri.raw, 'sip:bob@127.0.0.1:5070');
    assert.equal(Buffer.from(first.msg.body).toString(), SDP_OFFER);
    assert.equal(first.msg.getHeader('Contact'), undefined, 'the transport writes our Contact');

    let seen = h.messaging.published.length;
    await respond(h, first, 407, 'Proxy Authentication Required', { toTag: 'px', extra: ['Proxy-Authenticate: Digest realm="example", nonce="n1", algorithm=MD5'] });
    const [second] = requests(h, seen);
    assert.equal(second?.msg.method, 'INVITE');
    assert.equal(second.msg.cseq.seq, first.msg.cseq.seq + 1);
    assert.match(second.msg.getHeader('Proxy-Authorization') ?? '', /^Digest .*username="alice".*realm="example"/);

    await respond(h, second, 180, 'Ringing', { toTag: 'b1', extra: ['Contact: <sip:bob@127.0.0.1:5070>'] });
    seen = h.messaging.published.length;
    await respond(h, second, 200, 'OK', { toTag: 'b1', extra: ['Contact: <sip:bob@127.0.0.1:5070>'], body: SDP_ANSWER });
    const [ack] = requests(h, seen);
    assert.equal(ack?.msg.method, 'ACK');
    assert.equal(ack.subject, 'sip.out.t1');
    assert.equal(ack.reply, undefined, 'ACK for a 2xx goes without a transaction');
    assert.deepEqual(ack.out.flow, FLOW);
    assert.equal(ack.msg.to.tag, 'b1');
    assert.equal(ack.msg.cseq.seq, second.msg.cseq.seq);

    const evs = h.callEvents();
    assert.deepEqual(evs.map((e) => e.event), ['ringing', 'answered']);
    const answered = evs[1];
    assert.equal(answered?.direction, 'outbound');
    assert.equal(answered.sdp, SDP_ANSWER);
    assert.deepEqual(answered.headers, { 'X-Job': '7' });
    assert.ok((await h.calls.get('o1')) !== undefined, 'the confirmed call is a regular call entry');

    const m = second.msg;
    // The Call-ID names the call: no dialog index was written for it (uac/call-id.ts).
    assert.equal(callOfOutboundCallId(m.callId), 'o1');
    assert.equal(await h.calls.findByDialog(m.callId, 'b1', true), undefined);
    const bye = sipText([
      'BYE sip:sipnats@127.0.0.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-bye1',
      `From: ${m.to.raw};tag=b1`,
      `To: ${m.from.raw}`,
      `Call-ID: ${m.callId}`,
      'CSeq: 1 BYE',
      'Max-Forwards: 70',
    ]);
    await h.send(envelope(bye));
    const [ok] = h.responses();
    assert.equal(ok?.msg.status, 200);
    const ended = h.callEvents();
    assert.equal(ended.at(-1)?.event, 'ended');
  });

  it('wrong credentials: a second challenge for the same realm ends in failed AUTH_FAILED, no third INVITE', async () => {
    const h = harness();
    await h.command('originate', originate({ credentials: { username: 'alice', password: 'wrong' } }));
    const [first] = requests(h);
    assert.ok(first !== undefined);
    const challenge = { toTag: 'px', extra: ['Proxy-Authenticate: Digest realm="example", nonce="n1", algorithm=MD5'] };
    await respond(h, first, 407, 'Proxy Authentication Required', challenge);
    const [second] = requests(h).slice(1);
    assert.ok(second !== undefined);
    await respond(h, second, 407, 'Proxy Authentication Required', challenge);
    assert.equal(requests(h).filter((r) => r.msg.method === 'INVITE').length, 2);
    const [failed] = h.callEvents();
    assert.equal(failed?.event, 'failed');
    assert.equal(failed.cause, 'AUTH_FAILED');
    assert.equal(failed.status, 407);
  });

  it('hangup while ringing: CANCEL with the INVITE Via through the instance of the INVITE; 487 ends as cancelled', async () => {
    const h = harness();
    await h.command('originate', originate());
    const [inv] = requests(h);
    assert.ok(inv !== undefined);
    await respond(h, inv, 180, 'Ringing', { toTag: 'b1' });
    const seen = h.messaging.published.length;
    assert.equal((await h.command('hangup', { v: 1, call: 'o1', action: 'hangup' })).ok, true);
    const [cancel] = requests(h, seen);
    assert.equal(cancel?.msg.method, 'CANCEL');
    assert.equal(cancel.subject, 'sip.out.t1');
    assert.equal(cancel.msg.getHeader('Via'), VIA);
    assert.equal(cancel.msg.cseq.seq, inv.msg.cseq.seq);
    await respond(h, inv, 487, 'Request Terminated', { toTag: 'b1' });
    const evs = h.callEvents();
    assert.deepEqual(evs.map((e) => e.event), ['ringing', 'cancelled']);
    assert.equal((await h.command('hangup', { v: 1, call: 'o1', action: 'hangup' })).code, 'BAD_STATE');
  });

  it('refuses a call id in use', async () => {
    const h = harness();
    assert.equal((await h.command('originate', originate())).ok, true);
    assert.equal((await h.command('originate', originate())).code, 'CONFLICT');
  });
});
