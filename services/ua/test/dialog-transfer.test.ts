import assert from 'node:assert/strict';
import type { SipRequest } from '@sipnats/sip-codec';
import { handleCommand } from '../src/dialog/commands.js';
import type { DialogCommand } from '../src/dialog/commands.js';
import { handleRequest, handleResponse } from '../src/dialog/in-dialog.js';
import { handleTimer } from '../src/dialog/timers.js';
import { parseEventHeader, parseSipfrag, parseSubscriptionState, referTarget } from '../src/dialog/transfer.js';
import { acceptInvite } from '../src/dialog/uas-invite.js';
import type { DialogConfig, DialogRecord, Transition } from '../src/dialog/types.js';
import { header, request, response } from './support/sip.js';

const config: DialogConfig = { answerTimeoutMs: 30_000, noAnswerStatus: 480, sessionExpires: 0, minSE: 90, transferTimeoutMs: 60_000 };
const T0 = 1_700_000_000_000;
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ANSWER = OFFER.replace('4000', '5000');
const CAROL = 'sip:carol@example.com';

const rec = (t: Transition): DialogRecord => {
  assert.ok(t.record);
  return t.record;
};

function confirmed(): DialogRecord {
  const inv = request([
    'INVITE sip:bob@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv;rport',
    'From: "Alice" <sip:alice@example.com>;tag=alice1',
    'To: <sip:bob@example.com>',
    'Call-ID: call-1@127.0.0.1',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@127.0.0.1:5070>',
    'Record-Route: <sip:proxy.example.com;lr>',
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
  ], OFFER);
  const accepted = acceptInvite(config, { call: 'c1', request: inv, txn: 'txn-inv', localTag: 'bob1', localContact: 'sip:ua@127.0.0.1:5080', now: T0 });
  assert.equal(accepted.kind, 'accepted');
  const offered = accepted.kind === 'accepted' ? rec(accepted.transition) : undefined;
  assert.ok(offered);
  const answered = rec(cmd(offered, { action: 'answer', sdp: ANSWER }));
  return rec(req(answered, inDialog('ACK', 1)));
}

/** A request from Alice (the peer) in the dialog. */
function inDialog(method: string, cseq: number, extra: string[] = [], body = ''): SipRequest {
  return request([
    `${method} sip:bob@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-${method}-${cseq}`,
    'From: "Alice" <sip:alice@example.com>;tag=alice1',
    'To: <sip:bob@example.com>;tag=bob1',
    'Call-ID: call-1@127.0.0.1',
    `CSeq: ${cseq} ${method}`,
    'Max-Forwards: 70',
    ...extra,
  ], body);
}

function notify(cseq: number, sipfrag: string | undefined, state = 'active;expires=60', event = 'refer'): SipRequest {
  return inDialog('NOTIFY', cseq, [`Event: ${event}`, `Subscription-State: ${state}`, ...(sipfrag === undefined ? [] : ['Content-Type: message/sipfrag;version=2.0'])], sipfrag ?? '');
}

/** Alice's response to a request we sent (our From tag bob1). */
function answer(status: number, reason: string, cseq: number, method: string): ReturnType<typeof response> {
  return response([
    `SIP/2.0 ${status} ${reason}`,
    'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-ours',
    'From: <sip:bob@example.com>;tag=bob1',
    'To: "Alice" <sip:alice@example.com>;tag=alice1',
    'Call-ID: call-1@127.0.0.1',
    `CSeq: ${cseq} ${method}`,
  ]);
}

function cmd(r: DialogRecord, command: DialogCommand, now = T0): Transition {
  const out = handleCommand(config, r, command, now);
  assert.ok(out.ok, out.ok ? '' : `${out.code}: ${out.error}`);
  return out.transition;
}

function refused(r: DialogRecord, command: DialogCommand): string {
  const out = handleCommand(config, r, command, T0);
  assert.equal(out.ok, false);
  return out.ok ? '' : out.code;
}

function req(r: DialogRecord, m: SipRequest, now = T0, declineRefer = false): Transition {
  return handleRequest(config, r, { request: m, txn: `txn-${m.method}-${m.cseq.seq}`, now, random: () => 0.5, declineRefer });
}

/** A confirmed call with our REFER to carol sent. */
function referred(): { r: DialogRecord; t: Transition; cseq: number } {
  const t = cmd(confirmed(), { action: 'transfer', target: CAROL });
  const cseq = rec(t).referOut?.cseq ?? 0;
  return { r: rec(t), t, cseq };
}

describe('dialog: blind transfer we start (RFC 3515 REFER, RFC 3420 sipfrag)', () => {
  it('builds the REFER in the dialog: Request-URI, route set, next CSeq, Refer-To, Referred-By, Contact, X- headers; arms the transfer timeout', () => {
    const r0 = confirmed();
    const t = cmd(r0, { action: 'transfer', target: `${CAROL};user=phone`, headers: { 'X-Ticket': 'T-7' } });
    assert.equal(t.requests.length, 1);
    const refer = t.requests[0];
    assert.equal(refer?.method, 'REFER');
    assert.equal(refer?.requestUri, 'sip:alice@127.0.0.1:5070');
    const h = refer?.headers ?? [];
    assert.equal(header(h, 'CSeq'), `${r0.localCseq + 1} REFER`);
    assert.equal(header(h, 'From'), '<sip:bob@example.com>;tag=bob1');
    assert.equal(header(h, 'To'), '"Alice" <sip:alice@example.com>;tag=alice1');
    assert.equal(header(h, 'Call-ID'), 'call-1@127.0.0.1');
    assert.equal(header(h, 'Route'), '<sip:proxy.example.com;lr>');
    assert.equal(header(h, 'Refer-To'), `<${CAROL};user=phone>`);
    assert.equal(header(h, 'Referred-By'), '<sip:bob@example.com>');
    assert.equal(header(h, 'Contact'), '<sip:ua@127.0.0.1:5080>');
    assert.equal(header(h, 'X-Ticket'), 'T-7');
    assert.equal(refer?.body, undefined);
    assert.deepEqual(t.timers, [{ name: 'transfer-timeout', at: T0 + 60_000 }]);
    assert.deepEqual(rec(t).referOut, { cseq: r0.localCseq + 1, target: `${CAROL};user=phone`, accepted: false, status: undefined });
    assert.equal(rec(t).localCseq, r0.localCseq + 1);
    assert.deepEqual(t.events, []);
  });

  it('refuses a transfer before the call is confirmed, after it ended, to a bad target, with a non-X header, or while one is in progress', () => {
    const r = confirmed();
    assert.equal(refused(r, { action: 'transfer', target: 'http://example.com/' }), 'INVALID');
    assert.equal(refused(r, { action: 'transfer', target: 'carol' }), 'INVALID');
    assert.equal(refused(r, { action: 'transfer', target: 'sip:carol@example.com>\r\nX-Evil: 1' }), 'INVALID');
    assert.equal(refused(r, { action: 'transfer', target: CAROL, headers: { Contact: '<sip:x@y>' } }), 'INVALID');
    assert.equal(refused(referred().r, { action: 'transfer', target: 'sip:dave@example.com' }), 'CONFLICT');
    const ended = rec(cmd(r, { action: 'hangup' }));
    assert.equal(refused(ended, { action: 'transfer', target: CAROL }), 'BAD_STATE');
    const early: DialogRecord = { ...r, phase: 'early', state: 'early' };
    assert.equal(refused(early, { action: 'transfer', target: CAROL }), 'BAD_STATE');
    assert.ok(referTarget('tel:+15551234567').ok);
    assert.ok(referTarget('sips:carol@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2').ok);
  });

  it('202, then NOTIFY 100 and 180 (each 200, transferred with the sipfrag status), then a final 200 sipfrag: BYE and ended BLIND_TRANSFER', () => {
    const { r, cseq } = referred();
    const t202 = handleResponse(config, r, answer(202, 'Accepted', cseq, 'REFER'), T0 + 10);
    assert.deepEqual(t202.events, [{ event: 'transferred', status: 202, reason: 'Accepted', referTo: CAROL }]);
    assert.equal(rec(t202).referOut?.accepted, true);
    assert.equal(rec(t202).phase, 'confirmed');

    const n1 = req(rec(t202), notify(2, 'SIP/2.0 100 Trying\r\n'), T0 + 20);
    assert.equal(n1.responses[0]?.response.status, 200);
    assert.deepEqual(n1.responses[0]?.target, { to: 'request' });
    assert.deepEqual(n1.events, [{ event: 'transferred', status: 100, reason: 'Trying', referTo: CAROL }]);
    assert.deepEqual(n1.timers, [{ name: 'transfer-timeout', at: T0 + 20 + 60_000 }]);

    const n2 = req(rec(n1), notify(3, 'SIP/2.0 180 Ringing\r\nContact: <sip:carol@10.0.0.7>\r\n'), T0 + 30);
    assert.deepEqual(n2.events, [{ event: 'transferred', status: 180, reason: 'Ringing', referTo: CAROL }]);
    assert.equal(rec(n2).referOut?.status, 180);

    const n3 = req(rec(n2), notify(4, 'SIP/2.0 200 OK\r\n', 'terminated;reason=noresource'), T0 + 40);
    assert.equal(n3.responses[0]?.response.status, 200);
    assert.deepEqual(n3.events.map((e) => [e.event, e.status, e.cause]), [
      ['transferred', 200, 'TRANSFER_COMPLETED'],
      ['ended', undefined, 'BLIND_TRANSFER'],
    ]);
    const bye = n3.requests[0];
    assert.equal(bye?.method, 'BYE');
    assert.equal(header(bye?.headers ?? [], 'CSeq'), `${cseq + 1} BYE`);
    assert.equal(header(bye?.headers ?? [], 'Reason'), 'Q.850;cause=16;text="BLIND_TRANSFER"');
    assert.equal(rec(n3).phase, 'ended');
    assert.equal(rec(n3).ended?.cause, 'BLIND_TRANSFER');
    assert.equal(rec(n3).referOut, undefined);
    assert.ok(n3.cancelTimers.includes('transfer-timeout'));
  });

  it('a NOTIFY before the 202 (RFC 3515 §2.4.4 allows the race) counts; the late 202 changes nothing', () => {
    const { r, cseq } = referred();
    const n = req(r, notify(2, 'SIP/2.0 100 Trying\r\n'));
    assert.deepEqual(n.events.map((e) => e.status), [100]);
    assert.equal(rec(n).referOut?.accepted, true);
    const done = req(rec(n), notify(3, 'SIP/2.0 486 Busy Here\r\n', 'terminated;reason=noresource'));
    const late = handleResponse(config, rec(done), answer(202, 'Accepted', cseq, 'REFER'), T0);
    assert.equal(late.changed, false);
    assert.deepEqual(late.events, []);
  });

  it('a final failure in the sipfrag keeps the call up (TRANSFER_FAILED); another transfer may follow', () => {
    const { r } = referred();
    const t = req(r, notify(2, 'SIP/2.0 486 Busy Here\r\n', 'terminated;reason=noresource'));
    assert.equal(t.responses[0]?.response.status, 200);
    assert.deepEqual(t.events, [{ event: 'transferred', status: 486, reason: 'Busy Here', cause: 'TRANSFER_FAILED', referTo: CAROL }]);
    assert.equal(t.requests.length, 0);
    assert.equal(rec(t).phase, 'confirmed');
    assert.equal(rec(t).referOut, undefined);
    assert.ok(t.cancelTimers.includes('transfer-timeout'));
    assert.equal(cmd(rec(t), { action: 'transfer', target: 'sip:dave@example.com' }).requests[0]?.method, 'REFER');
  });

  it('Subscription-State: terminated without a final status ends the transfer as failed; the call stays', () => {
    const { r } = referred();
    const t = req(r, notify(2, 'SIP/2.0 100 Trying\r\n', 'terminated;reason=rejected'));
    assert.deepEqual(t.events.map((e) => [e.status, e.cause]), [[100, undefined], [undefined, 'TRANSFER_FAILED']]);
    assert.match(t.events[1]?.reason ?? '', /terminated \(rejected\)/);
    assert.equal(rec(t).referOut, undefined);
    assert.equal(rec(t).phase, 'confirmed');
  });

  it('the REFER refused (603): transferred TRANSFER_REJECTED with the status, the call stays; 481 ends the call (§12.2.1.2)', () => {
    const { r, cseq } = referred();
    const t = handleResponse(config, r, answer(603, 'Decline', cseq, 'REFER'), T0);
    assert.deepEqual(t.events, [{ event: 'transferred', status: 603, reason: 'Decline', cause: 'TRANSFER_REJECTED', referTo: CAROL }]);
    assert.equal(rec(t).phase, 'confirmed');
    assert.equal(rec(t).referOut, undefined);
    assert.ok(t.cancelTimers.includes('transfer-timeout'));
    const gone = handleResponse(config, r, answer(481, 'Call/Transaction Does Not Exist', cseq, 'REFER'), T0);
    assert.deepEqual(gone.events.map((e) => [e.event, e.cause]), [['transferred', 'TRANSFER_REJECTED'], ['ended', 'RECOVERY_ON_TIMER_EXPIRE']]);
    assert.equal(rec(gone).phase, 'ended');
  });

  it('no final NOTIFY in time: transfer-timeout reports TRANSFER_TIMEOUT, the call stays, a later NOTIFY gets 481', () => {
    const { r } = referred();
    const n = req(r, notify(2, 'SIP/2.0 100 Trying\r\n'), T0 + 1000);
    const t = handleTimer(config, rec(n), 'transfer-timeout', T0 + 61_000);
    assert.deepEqual(t.events.map((e) => [e.event, e.cause, e.referTo]), [['transferred', 'TRANSFER_TIMEOUT', CAROL]]);
    assert.equal(rec(t).referOut, undefined);
    assert.equal(rec(t).phase, 'confirmed');
    const late = req(rec(t), notify(3, 'SIP/2.0 200 OK\r\n', 'terminated'));
    assert.equal(late.responses[0]?.response.status, 481);
    assert.deepEqual(late.events, []);
    assert.equal(rec(late).phase, 'confirmed');
    // The timer of a call whose transfer already finished does nothing.
    assert.deepEqual(handleTimer(config, rec(t), 'transfer-timeout', T0 + 200_000).events, []);
  });

  it('NOTIFY of another event package gets 489; of another REFER (id) or with no transfer 481', () => {
    const { r, cseq } = referred();
    const other = req(r, notify(2, undefined, 'active', 'presence'));
    assert.equal(other.responses[0]?.response.status, 489);
    assert.equal(header(other.responses[0]?.response.headers ?? [], 'Allow-Events'), 'refer');
    assert.equal(req(r, notify(2, 'SIP/2.0 100 Trying\r\n', 'active', `refer;id=${cseq + 7}`)).responses[0]?.response.status, 481);
    assert.equal(req(r, notify(2, 'SIP/2.0 100 Trying\r\n', 'active', `refer;id=${cseq}`)).responses[0]?.response.status, 200);
    assert.equal(req(confirmed(), notify(2, 'SIP/2.0 100 Trying\r\n')).responses[0]?.response.status, 481);
    // A NOTIFY without a sipfrag we can read is answered, reports nothing, and re-arms the wait.
    const blank = req(r, notify(2, 'garbage'), T0 + 5);
    assert.equal(blank.responses[0]?.response.status, 200);
    assert.deepEqual(blank.events, []);
    assert.deepEqual(blank.timers, [{ name: 'transfer-timeout', at: T0 + 5 + 60_000 }]);
  });

  it('the transfer survives a JSON round trip; a record written before transfers existed can transfer', () => {
    const { r, cseq } = referred();
    const copy = JSON.parse(JSON.stringify(r)) as DialogRecord;
    assert.deepEqual(copy.referOut, { cseq, target: CAROL, accepted: false });
    const t = req(copy, notify(2, 'SIP/2.0 200 OK\r\n', 'terminated'));
    assert.equal(t.requests[0]?.method, 'BYE');
    const { referOut: _o, referIn: _i, ...old } = confirmed();
    assert.equal(cmd(old as DialogRecord, { action: 'transfer', target: CAROL }).requests[0]?.method, 'REFER');
  });
});

describe('dialog: the peer transfers us (REFER received)', () => {
  const refer = (cseq = 2, extra: string[] = [`Refer-To: <${CAROL}>`, 'Referred-By: <sip:alice@example.com>']) => inDialog('REFER', cseq, ['Contact: <sip:alice@127.0.0.1:5070>', ...extra]);

  it('202, a NOTIFY 100 Trying at once (Event refer;id, active, message/sipfrag), transferred TRANSFER_REQUESTED with Refer-To and Referred-By', () => {
    const r = confirmed();
    const t = req(r, refer());
    assert.equal(t.responses[0]?.response.status, 202);
    assert.deepEqual(t.events, [{ event: 'transferred', cause: 'TRANSFER_REQUESTED', referTo: CAROL, referredBy: 'sip:alice@example.com' }]);
    const n = t.requests[0];
    assert.equal(n?.method, 'NOTIFY');
    assert.equal(n?.requestUri, 'sip:alice@127.0.0.1:5070');
    assert.equal(header(n?.headers ?? [], 'Event'), 'refer;id=2');
    assert.equal(header(n?.headers ?? [], 'Subscription-State'), 'active;expires=60');
    assert.equal(header(n?.headers ?? [], 'CSeq'), `${r.localCseq + 1} NOTIFY`);
    assert.equal(header(n?.headers ?? [], 'Contact'), '<sip:ua@127.0.0.1:5080>');
    assert.deepEqual(n?.body, { contentType: 'message/sipfrag;version=2.0', content: 'SIP/2.0 100 Trying\r\n' });
    assert.deepEqual(t.timers, [{ name: 'refer-timeout', at: T0 + 60_000 }]);
    assert.deepEqual(rec(t).referIn, { cseq: 2, target: CAROL });
  });

  it('a second REFER while the first is open gets 491; one without Refer-To 400; before the call is confirmed 603; declined by the wiring 603', () => {
    const r = rec(req(confirmed(), refer()));
    assert.equal(req(r, refer(3)).responses[0]?.response.status, 491);
    assert.equal(req(confirmed(), refer(2, [])).responses[0]?.response.status, 400);
    const early: DialogRecord = { ...confirmed(), phase: 'answered', state: 'early' };
    assert.equal(req(early, refer()).responses[0]?.response.status, 603);
    const declined = req(confirmed(), refer(), T0, true);
    assert.equal(declined.responses[0]?.response.status, 603);
    assert.equal(declined.requests.length, 0);
    assert.deepEqual(declined.events, []);
    assert.equal(rec(declined).referIn, undefined);
  });

  it('the controller hangs up: NOTIFY 200 OK (terminated) first, the BYE once that NOTIFY is answered', () => {
    const r = rec(req(confirmed(), refer()));
    const h = cmd(r, { action: 'hangup' });
    assert.equal(h.requests.length, 1);
    const n = h.requests[0];
    assert.equal(n?.method, 'NOTIFY');
    assert.equal(header(n?.headers ?? [], 'Subscription-State'), 'terminated;reason=noresource');
    assert.equal(n?.body?.content, 'SIP/2.0 200 OK\r\n');
    assert.equal(rec(h).phase, 'confirmed');
    assert.equal(refused(rec(h), { action: 'hangup' }), 'CONFLICT');
    const notifyCseq = Number(header(n?.headers ?? [], 'CSeq')?.split(' ')[0]);
    const ok = handleResponse(config, rec(h), answer(200, 'OK', notifyCseq, 'NOTIFY'), T0 + 5);
    assert.equal(ok.requests[0]?.method, 'BYE');
    assert.equal(header(ok.requests[0]?.headers ?? [], 'CSeq'), `${notifyCseq + 1} BYE`);
    assert.deepEqual(ok.events.map((e) => [e.event, e.cause]), [['ended', 'NORMAL_CLEARING']]);
    assert.equal(rec(ok).phase, 'ended');
  });

  it('no answer to the final NOTIFY: refer-timeout sends the BYE anyway', () => {
    const h = cmd(rec(req(confirmed(), refer())), { action: 'hangup', cause: 'NORMAL_CLEARING' });
    assert.deepEqual(h.timers, [{ name: 'refer-timeout', at: T0 + 64 * 500 }]);
    const t = handleTimer(config, rec(h), 'refer-timeout', T0 + 32_000);
    assert.equal(t.requests[0]?.method, 'BYE');
    assert.equal(rec(t).phase, 'ended');
  });

  it('no outcome from the controller in time: NOTIFY 408 (terminated), transferred TRANSFER_TIMEOUT, the call stays', () => {
    const r = rec(req(confirmed(), refer()));
    const t = handleTimer(config, r, 'refer-timeout', T0 + 60_000);
    const n = t.requests[0];
    assert.equal(n?.method, 'NOTIFY');
    assert.equal(header(n?.headers ?? [], 'Subscription-State'), 'terminated;reason=noresource');
    assert.equal(n?.body?.content, 'SIP/2.0 408 Request Timeout\r\n');
    assert.deepEqual(t.events.map((e) => [e.event, e.cause, e.referTo]), [['transferred', 'TRANSFER_TIMEOUT', CAROL]]);
    assert.equal(rec(t).referIn, undefined);
    assert.equal(rec(t).phase, 'confirmed');
    // The peer may transfer again now.
    assert.equal(req(rec(t), refer(3)).responses[0]?.response.status, 202);
  });

  it('a failed NOTIFY ends that subscription, never the call; the peer\'s BYE ends both', () => {
    const r = rec(req(confirmed(), refer()));
    const notifyCseq = r.localCseq;
    const t = handleResponse(config, r, answer(481, 'Subscription Does Not Exist', notifyCseq, 'NOTIFY'), T0);
    assert.equal(rec(t).referIn, undefined);
    assert.equal(rec(t).phase, 'confirmed');
    assert.deepEqual(t.events, []);
    const bye = req(r, inDialog('BYE', 3));
    assert.equal(rec(bye).phase, 'ended');
    assert.equal(rec(bye).referIn, undefined);
    assert.ok(bye.cancelTimers.includes('refer-timeout'));
  });
});

describe('dialog: sipfrag and subscription headers', () => {
  it('parseSipfrag reads the status line of message/sipfrag only', () => {
    assert.deepEqual(parseSipfrag('message/sipfrag;version=2.0', 'SIP/2.0 200 OK\r\n'), { status: 200, reason: 'OK' });
    assert.deepEqual(parseSipfrag('Message/SIPfrag', 'SIP/2.0 180 Ringing\r\nContact: <sip:c@h>\r\n\r\n'), { status: 180, reason: 'Ringing' });
    assert.deepEqual(parseSipfrag('message/sipfrag', 'SIP/2.0 503'), { status: 503, reason: '' });
    assert.deepEqual(parseSipfrag('message/sipfrag', 'SIP/2.0 603 Declined\n'), { status: 603, reason: 'Declined' });
    assert.equal(parseSipfrag('text/plain', 'SIP/2.0 200 OK\r\n'), undefined);
    assert.equal(parseSipfrag(undefined, 'SIP/2.0 200 OK\r\n'), undefined);
    assert.equal(parseSipfrag('message/sipfrag', 'INVITE sip:carol@example.com SIP/2.0\r\n'), undefined);
    assert.equal(parseSipfrag('message/sipfrag', 'SIP/2.0 99 Odd\r\n'), undefined);
    assert.equal(parseSipfrag('message/sipfrag', 'SIP/2.0 2000 OK\r\n'), undefined);
    assert.equal(parseSipfrag('message/sipfrag', ''), undefined);
    // Only the first 512 characters are read: a huge line still gives its status, the reason cut.
    const long = parseSipfrag('message/sipfrag', `SIP/2.0 200 ${'x'.repeat(100_000)}`);
    assert.equal(long?.status, 200);
    assert.ok((long?.reason.length ?? 0) < 512);
  });

  it('parseEventHeader and parseSubscriptionState take the package/state and the id/reason parameter', () => {
    assert.deepEqual(parseEventHeader('refer;id=93809824'), { pkg: 'refer', id: '93809824' });
    assert.deepEqual(parseEventHeader(' Refer '), { pkg: 'refer', id: undefined });
    assert.equal(parseEventHeader(''), undefined);
    assert.equal(parseEventHeader(undefined), undefined);
    assert.deepEqual(parseSubscriptionState('terminated;reason=noresource'), { state: 'terminated', reason: 'noresource' });
    assert.deepEqual(parseSubscriptionState('Active ; expires=60'), { state: 'active', reason: undefined });
  });
});
