import assert from 'node:assert/strict';
import { CommandReply, decodeJson, encodeJson, fromBase64, OutMessage, ResponseEnvelope, toBase64 } from '@sipnats/contracts';
import { parseMessage, type SipRequest } from '@sipnats/sip-codec';
import { envelope, FLOW, harness, sipText, type Harness } from './app-harness.js';
import { invite, req, SDP_ANSWER, type Dlg } from './app-sip.js';

const CAROL = 'sip:carol@example.com';

interface Sent {
  readonly reply: string | undefined;
  readonly msg: SipRequest;
}

/** Requests the ua published on sip.out.* since the last call. */
function sentRequests(h: Harness, seen: { n: number }): Sent[] {
  const all = h.messaging.published.filter((p) => p.subject.startsWith('sip.out'));
  const fresh = all.slice(seen.n);
  seen.n = all.length;
  return fresh.flatMap((p) => {
    const r = decodeJson(OutMessage, p.data);
    if (!r.ok || r.value.kind !== 'request') return [];
    return [{ reply: p.reply, msg: parseMessage(fromBase64(r.value.raw), { allowMissingVia: true }) as SipRequest }];
  });
}

async function settle(h: Harness): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await h.idle();
    await new Promise((r) => setImmediate(r));
  }
}

/** The requests sent next, polled without waiting for the work queue (a transfer command holds its slot until the REFER is answered). */
async function nextRequests(h: Harness, seen: { n: number }): Promise<Sent[]> {
  for (let i = 0; i < 1000; i++) {
    const fresh = sentRequests(h, seen);
    if (fresh.length > 0) return fresh;
    await new Promise((r) => setImmediate(r));
  }
  return [];
}

/** Delivers the peer's response to a request the ua sent, as the transport would. */
async function respondTo(h: Harness, sent: Sent, status: number, reason: string): Promise<void> {
  const m = sent.msg;
  const raw = sipText([
    `SIP/2.0 ${status} ${reason}`,
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-tr1-x;rport',
    `From: ${m.from.raw}`,
    `To: ${m.to.raw}`,
    `Call-ID: ${m.callId}`,
    `CSeq: ${m.cseq.seq} ${m.cseq.method}`,
  ]);
  const env: ResponseEnvelope = { v: 1, instance: 't1', txn: 'ct1', status, reason, callId: m.callId, cseq: { seq: m.cseq.seq, method: m.cseq.method }, flow: FLOW, raw: toBase64(raw) };
  assert.ok(sent.reply !== undefined, `the ${m.method} has a reply subject`);
  h.messaging.deliver(sent.reply, encodeJson(ResponseEnvelope, env));
  await settle(h);
}

/** An inbound call answered and ACKed; returns its id and the dialog. */
async function upCall(h: Harness, callId: string): Promise<{ call: string; d: Dlg }> {
  const d: Dlg = { callId, fromTag: 'a1' };
  await h.send(envelope(invite(d)));
  const call = h.callEvents()[0]?.call ?? '';
  assert.equal((await h.command('answer', { v: 1, call, action: 'answer', sdp: SDP_ANSWER })).ok, true);
  d.toTag = h.responses()[0]?.msg.to.tag;
  await h.send(envelope(req('ACK', d, 1), { txn: null }));
  h.callEvents();
  return { call, d };
}

/** Sends a command without waiting for its reply (the transfer reply waits for the REFER's answer). */
function commandLater(h: Harness, action: string, payload: unknown): () => CommandReply | undefined {
  const reply = `_INBOX.cmd.${Math.random().toString(36).slice(2)}`;
  h.messaging.deliver(`sip.cmd.call.${action}`, Buffer.from(JSON.stringify(payload)), reply);
  return () => {
    const got = h.messaging.published.find((p) => p.subject === reply);
    if (got === undefined) return undefined;
    const r = decodeJson(CommandReply, got.data);
    if (!r.ok) throw new Error(r.errors.join('; '));
    return r.value;
  };
}

function notifyReq(d: Dlg, cseq: number, frag: string, state: string): Buffer {
  return req('NOTIFY', d, cseq, { extra: ['Event: refer', `Subscription-State: ${state}`], contentType: 'message/sipfrag;version=2.0', body: frag });
}

describe('ua app: blind transfer (REFER)', () => {
  it('transfer: REFER through the call\'s flow, the reply waits for the 202; NOTIFYs answered 200 → transferred; final 200 sipfrag → BYE, ended BLIND_TRANSFER', async () => {
    const h = harness();
    const seen = { n: 0 };
    const { call, d } = await upCall(h, 'x1');
    sentRequests(h, seen);
    const reply = commandLater(h, 'transfer', { v: 1, call, action: 'transfer', target: CAROL, headers: { 'X-Ticket': '7' } });
    const [refer] = await nextRequests(h, seen);
    assert.equal(refer?.msg.method, 'REFER');
    assert.equal(refer.msg.getHeader('Refer-To'), `<${CAROL}>`);
    assert.equal(refer.msg.getHeader('Referred-By'), '<sip:bob@127.0.0.1>');
    assert.equal(refer.msg.getHeader('X-Ticket'), '7');
    assert.equal(refer.msg.getHeader('Contact'), undefined, 'the transport writes our Contact');
    assert.equal(reply(), undefined, 'no reply before the REFER is answered');

    await respondTo(h, refer, 202, 'Accepted');
    assert.deepEqual(reply(), { v: 1, ok: true, call, status: 202 });
    assert.deepEqual(h.callEvents().map((e) => [e.event, e.status, e.referTo]), [['transferred', 202, CAROL]]);

    await h.send(envelope(notifyReq(d, 2, 'SIP/2.0 100 Trying\r\n', 'active;expires=60')));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    await h.send(envelope(notifyReq(d, 3, 'SIP/2.0 200 OK\r\n', 'terminated;reason=noresource')));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200]);
    const evs = h.callEvents();
    assert.deepEqual(evs.map((e) => [e.event, e.status, e.cause]), [
      ['transferred', 100, undefined],
      ['transferred', 200, 'TRANSFER_COMPLETED'],
      ['ended', undefined, 'BLIND_TRANSFER'],
    ]);
    assert.equal(evs[0]?.referTo, CAROL);
    assert.deepEqual(sentRequests(h, seen).map((s) => s.msg.method), ['BYE']);
  });

  it('transfer refused by the peer (603): reply BAD_STATE with the status, transferred TRANSFER_REJECTED, the call stays up', async () => {
    const h = harness();
    const seen = { n: 0 };
    const { call } = await upCall(h, 'x2');
    sentRequests(h, seen);
    const reply = commandLater(h, 'transfer', { v: 1, call, action: 'transfer', target: CAROL });
    const [refer] = await nextRequests(h, seen);
    assert.ok(refer);
    await respondTo(h, refer, 603, 'Decline');
    const r = reply();
    assert.equal(r?.ok, false);
    assert.equal(r?.code, 'BAD_STATE');
    assert.equal(r?.status, 603);
    assert.match(r?.error ?? '', /603/);
    assert.deepEqual(h.callEvents().map((e) => [e.event, e.status, e.cause]), [['transferred', 603, 'TRANSFER_REJECTED']]);
    assert.equal((await h.calls.get(call))?.value.dialog.phase, 'confirmed');
    // A local 408 (Timer F) is TIMEOUT; it also ends the call (§12.2.1.2).
    const again = commandLater(h, 'transfer', { v: 1, call, action: 'transfer', target: CAROL });
    const [refer2] = await nextRequests(h, seen);
    assert.ok(refer2);
    await respondTo(h, refer2, 408, 'Request Timeout');
    assert.equal(again()?.code, 'TIMEOUT');
  });

  it('transfer of an unknown call is NOT_FOUND, of an unanswered one BAD_STATE, to a non-SIP target INVALID', async () => {
    const h = harness();
    assert.equal((await h.command('transfer', { v: 1, call: 'nope', action: 'transfer', target: CAROL })).code, 'NOT_FOUND');
    await h.send(envelope(invite({ callId: 'x3', fromTag: 'a' })));
    const call = h.callEvents()[0]?.call ?? '';
    assert.equal((await h.command('transfer', { v: 1, call, action: 'transfer', target: CAROL })).code, 'BAD_STATE');
    const bad = await h.command('transfer', { v: 1, call, action: 'transfer', target: 'mailto:carol@example.com' });
    assert.equal(bad.code, 'BAD_STATE', 'the state is checked first');
    const up = await upCall(h, 'x4');
    const invalid = await h.command('transfer', { v: 1, call: up.call, action: 'transfer', target: 'mailto:carol@example.com' });
    assert.equal(invalid.code, 'INVALID');
    assert.match(invalid.error ?? '', /scheme/);
  });

  it('the peer\'s REFER: 202, NOTIFY 100 Trying, transferred TRANSFER_REQUESTED; the controller\'s hangup NOTIFYs 200 OK, then BYEs', async () => {
    const h = harness();
    const seen = { n: 0 };
    const { call, d } = await upCall(h, 'x5');
    sentRequests(h, seen);
    await h.send(envelope(req('REFER', d, 2, { extra: [`Refer-To: <${CAROL}>`, 'Referred-By: <sip:alice@127.0.0.1>'] })));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [202]);
    const [ev] = h.callEvents();
    assert.deepEqual([ev?.event, ev?.cause, ev?.referTo, ev?.referredBy], ['transferred', 'TRANSFER_REQUESTED', CAROL, 'sip:alice@127.0.0.1']);
    const [trying] = sentRequests(h, seen);
    assert.equal(trying?.msg.method, 'NOTIFY');
    assert.equal(trying.msg.getHeader('Event'), 'refer;id=2');
    assert.equal(Buffer.from(trying.msg.body).toString(), 'SIP/2.0 100 Trying\r\n');
    await respondTo(h, trying, 200, 'OK');

    assert.equal((await h.command('hangup', { v: 1, call, action: 'hangup' })).ok, true);
    const [final] = sentRequests(h, seen);
    assert.equal(final?.msg.method, 'NOTIFY');
    assert.equal(final.msg.getHeader('Subscription-State'), 'terminated;reason=noresource');
    assert.equal(Buffer.from(final.msg.body).toString(), 'SIP/2.0 200 OK\r\n');
    assert.deepEqual(h.callEvents(), []);
    await respondTo(h, final, 200, 'OK');
    assert.deepEqual(sentRequests(h, seen).map((s) => s.msg.method), ['BYE']);
    assert.deepEqual(h.callEvents().map((e) => [e.event, e.cause]), [['ended', 'NORMAL_CLEARING']]);
  });

  it('a REFER on a bridged call is declined with 603; out of dialog REFER gets 403', async () => {
    const h = harness();
    const { call, d } = await upCall(h, 'x6');
    const stored = await h.calls.get(call);
    assert.ok(stored);
    assert.ok(await h.calls.update({ ...stored.value, bridgeOf: 'inbound-1' }, stored.revision));
    await h.send(envelope(req('REFER', d, 2, { extra: [`Refer-To: <${CAROL}>`] })));
    assert.deepEqual(h.responses().map((r) => r.msg.status), [603]);
    assert.deepEqual(h.callEvents(), []);
    await h.send(envelope(req('REFER', { callId: 'x7', fromTag: 'z' }, 1, { extra: [`Refer-To: <${CAROL}>`] })));
    assert.deepEqual(h.responses().map((r) => [r.msg.status, r.msg.reason]), [[403, 'Out-Of-Dialog REFER Not Supported']]);
  });
});
