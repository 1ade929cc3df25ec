import assert from 'node:assert/strict';
import type { SipRequest } from '@sipnats/sip-codec';
import { handleCommand } from '../src/dialog/commands.js';
import type { DialogCommand } from '../src/dialog/commands.js';
import { handleRequest, handleResponse } from '../src/dialog/in-dialog.js';
import { handleTimer } from '../src/dialog/timers.js';
import { acceptInvite } from '../src/dialog/uas-invite.js';
import type { DialogConfig, DialogRecord, Transition } from '../src/dialog/types.js';
import { parseDtmf } from '../src/dialog/dtmf.js';
import { MemoryDialogStore } from '../src/dialog/dialog-store.js';
import { header, request, response } from './support/sip.js';

const config: DialogConfig = { answerTimeoutMs: 30_000, noAnswerStatus: 480, sessionExpires: 1800, minSE: 90 };
const T0 = 1_700_000_000_000;
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ANSWER = OFFER.replace('4000', '5000');

function invite(extra: string[] = [], body = OFFER): SipRequest {
  return request([
    'INVITE sip:bob@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv;rport',
    'From: "Alice" <sip:alice@example.com>;tag=alice1',
    'To: <sip:bob@example.com>',
    'Call-ID: call-1@127.0.0.1',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@127.0.0.1:5070>',
    'Record-Route: <sip:proxy.example.com;lr>',
    'Max-Forwards: 70',
    ...extra,
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
  ], body);
}

function inDialog(method: string, cseq: number, extra: string[] = [], body = '', cseqMethod = method): SipRequest {
  return request([
    `${method} sip:bob@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-${method}-${cseq}`,
    'From: "Alice" <sip:alice@example.com>;tag=alice1',
    `To: <sip:bob@example.com>${method === 'CANCEL' ? '' : ';tag=bob1'}`,
    'Call-ID: call-1@127.0.0.1',
    `CSeq: ${cseq} ${cseqMethod}`,
    'Max-Forwards: 70',
    ...extra,
  ], body);
}

function start(extra: string[] = [], body = OFFER): { rec: DialogRecord; t: Transition } {
  const result = acceptInvite(config, { call: 'c1', request: invite(extra, body), txn: 'txn-inv', localTag: 'bob1', localContact: 'sip:ua@127.0.0.1:5080', now: T0 });
  assert.equal(result.kind, 'accepted');
  const t = result.kind === 'accepted' ? result.transition : undefined;
  assert.ok(t?.record);
  return { rec: t.record, t };
}

function cmd(rec: DialogRecord, command: DialogCommand, now = T0): Transition {
  const r = handleCommand(config, rec, command, now);
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.error}`);
  return r.transition;
}

function req(rec: DialogRecord, r: SipRequest, now = T0): Transition {
  return handleRequest(config, rec, { request: r, txn: `txn-${r.method}-${r.cseq.seq}`, now, random: () => 0.5 });
}

const rec = (t: Transition): DialogRecord => {
  assert.ok(t.record);
  return t.record;
};

describe('dialog: UAS INVITE session (RFC 3261 §12, §13)', () => {
  it('offer → 180 → 200 → ACK → BYE', () => {
    const { rec: r0, t: t0 } = start();
    assert.deepEqual(t0.events, [{ event: 'offer', sdp: OFFER }]);
    assert.deepEqual(t0.timers, [{ name: 'no-answer', at: T0 + 30_000 }]);
    assert.equal(r0.remoteTarget, 'sip:alice@127.0.0.1:5070');
    assert.deepEqual(r0.routeSet, ['<sip:proxy.example.com;lr>']);

    const t1 = cmd(r0, { action: 'ring' });
    const ringing = t1.responses[0];
    assert.equal(ringing?.response.status, 180);
    assert.deepEqual(ringing?.target, { to: 'invite' });
    assert.equal(header(ringing?.response.headers ?? [], 'To'), '<sip:bob@example.com>;tag=bob1');
    assert.equal(header(ringing?.response.headers ?? [], 'Record-Route'), '<sip:proxy.example.com;lr>');
    assert.equal(rec(t1).phase, 'early');

    const t2 = cmd(rec(t1), { action: 'answer', sdp: ANSWER });
    const ok = t2.responses[0]?.response;
    assert.equal(ok?.status, 200);
    assert.equal(ok?.body?.content, ANSWER);
    assert.equal(header(ok?.headers ?? [], 'Contact'), '<sip:ua@127.0.0.1:5080>');
    assert.equal(header(ok?.headers ?? [], 'Session-Expires'), '1800;refresher=uas');
    assert.equal(rec(t2).phase, 'answered');
    assert.deepEqual(t2.timers.map((x) => x.name), ['2xx-retransmit', 'ack-timeout']);
    assert.ok(t2.cancelTimers.includes('no-answer'));

    const t3 = req(rec(t2), inDialog('ACK', 1, [], '', 'ACK'));
    assert.equal(rec(t3).phase, 'confirmed');
    assert.equal(rec(t3).state, 'confirmed');
    assert.deepEqual(t3.events, [{ event: 'confirmed' }]);
    assert.deepEqual(t3.timers.map((x) => x.name), ['session-refresh']);
    assert.equal(t3.responses.length, 0);

    const t4 = req(rec(t3), inDialog('BYE', 2));
    assert.equal(t4.responses[0]?.response.status, 200);
    assert.equal(rec(t4).phase, 'ended');
    assert.equal(rec(t4).state, 'terminated');
    assert.equal(t4.events[0]?.event, 'ended');
    assert.equal(t4.events[0]?.cause, 'NORMAL_CLEARING');
  });

  it('retransmits the 2xx until the ACK, doubling up to T2, and BYEs at 64*T1', () => {
    const answered = rec(cmd(start().rec, { action: 'answer', sdp: ANSWER }));
    let r = answered;
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = handleTimer(config, r, '2xx-retransmit', T0);
      assert.equal(t.responses[0]?.response.status, 200);
      intervals.push((t.timers[0]?.at ?? 0) - T0);
      r = rec(t);
    }
    assert.deepEqual(intervals, [1000, 2000, 4000, 4000, 4000]);
    const timeout = handleTimer(config, r, 'ack-timeout', T0 + 32_000);
    assert.equal(timeout.requests[0]?.method, 'BYE');
    assert.equal(rec(timeout).phase, 'ended');
  });

  it('reject 486 ends the call; answer after reject is BAD_STATE; a second reject is CONFLICT', () => {
    const t = cmd(start().rec, { action: 'reject', status: 486 });
    assert.equal(t.responses[0]?.response.status, 486);
    assert.equal(t.responses[0]?.response.reason, 'Busy Here');
    assert.equal(rec(t).phase, 'ended');
    const again = handleCommand(config, rec(t), { action: 'answer', sdp: ANSWER }, T0);
    assert.deepEqual(again.ok ? undefined : again.code, 'BAD_STATE');
    const reject2 = handleCommand(config, rec(t), { action: 'reject', status: 603 }, T0);
    assert.deepEqual(reject2.ok ? undefined : reject2.code, 'CONFLICT');
  });

  it('a second answer gets CONFLICT', () => {
    const t = cmd(start().rec, { action: 'answer', sdp: ANSWER });
    const second = handleCommand(config, rec(t), { action: 'answer', sdp: ANSWER }, T0);
    assert.equal(second.ok ? undefined : second.code, 'CONFLICT');
  });

  it('redirect sends 302 with Contacts', () => {
    const t = cmd(start().rec, { action: 'redirect', contacts: ['sip:carol@example.com'] });
    assert.equal(t.responses[0]?.response.status, 302);
    assert.equal(header(t.responses[0]?.response.headers ?? [], 'Contact'), '<sip:carol@example.com>');
  });

  it('CANCEL before the final response: 200 to CANCEL, 487 to the INVITE, cancelled', () => {
    const ringing = rec(cmd(start().rec, { action: 'ring' }));
    const t = req(ringing, inDialog('CANCEL', 1, [], '', 'CANCEL'));
    assert.deepEqual(t.responses.map((r) => [r.target.to, r.response.status]), [['request', 200], ['invite', 487]]);
    assert.equal(t.events[0]?.event, 'cancelled');
    assert.equal(rec(t).phase, 'ended');
    assert.ok(t.cancelTimers.includes('no-answer'));
  });

  it('no controller answer in time: the configured final response', () => {
    const t = handleTimer(config, start().rec, 'no-answer', T0 + 30_000);
    assert.equal(t.responses[0]?.response.status, 480);
    assert.equal(t.events[0]?.event, 'failed');
    assert.equal(t.events[0]?.cause, 'NO_ANSWER');
  });

  it('hangup while answered waits for the ACK, then BYEs with a Reason', () => {
    const answered = rec(cmd(start().rec, { action: 'answer', sdp: ANSWER }));
    const h = cmd(answered, { action: 'hangup' });
    assert.equal(h.requests.length, 0);
    const ack = req(rec(h), inDialog('ACK', 1, [], '', 'ACK'));
    const bye = ack.requests[0];
    assert.equal(bye?.method, 'BYE');
    assert.equal(bye?.requestUri, 'sip:alice@127.0.0.1:5070');
    assert.equal(header(bye?.headers ?? [], 'Route'), '<sip:proxy.example.com;lr>');
    assert.equal(header(bye?.headers ?? [], 'From'), '<sip:bob@example.com>;tag=bob1');
    assert.equal(header(bye?.headers ?? [], 'To'), '"Alice" <sip:alice@example.com>;tag=alice1');
    assert.equal(header(bye?.headers ?? [], 'CSeq'), '1 BYE');
    assert.equal(header(bye?.headers ?? [], 'Reason'), 'Q.850;cause=16;text="NORMAL_CLEARING"');
    assert.equal(rec(ack).phase, 'ended');
  });

  it('refuses INVITEs without Contact (400), with unknown Require (420), with a small Session-Expires (422)', () => {
    const noContact = request(['INVITE sip:bob@h SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@h>;tag=1', 'To: <sip:bob@h>', 'Call-ID: x', 'CSeq: 1 INVITE']);
    const base = { call: 'c', txn: 't', localTag: 'l', localContact: 'sip:ua@h', now: T0 };
    const a = acceptInvite(config, { ...base, request: noContact });
    assert.equal(a.kind === 'rejected' && a.response.status, 400);
    const b = acceptInvite(config, { ...base, request: invite(['Require: foo']) });
    assert.equal(b.kind === 'rejected' && b.response.status, 420);
    assert.equal(b.kind === 'rejected' && header(b.response.headers, 'Unsupported'), 'foo');
    const c = acceptInvite(config, { ...base, request: invite(['Session-Expires: 30', 'Supported: timer']) });
    assert.equal(c.kind === 'rejected' && c.response.status, 422);
    assert.equal(c.kind === 'rejected' && header(c.response.headers, 'Min-SE'), '90');
  });
});

describe('dialog: reliable provisionals (RFC 3262)', () => {
  it('183 with SDP reliably → PRACK → 200 to PRACK; the 200 to INVITE waits for the PRACK', () => {
    const { rec: r0 } = start(['Supported: 100rel, timer']);
    const t1 = cmd(r0, { action: 'ring', status: 183, sdp: ANSWER, reliable: true });
    const prov = t1.responses[0]?.response;
    assert.equal(prov?.status, 183);
    assert.equal(header(prov?.headers ?? [], 'RSeq'), '1');
    assert.equal(header(prov?.headers ?? [], 'Require'), '100rel');
    assert.deepEqual(t1.timers.map((x) => x.name), ['rel-retransmit', 'rel-timeout']);

    // A second reliable provisional waits; the answer is deferred (the 183 carried SDP).
    const t2 = cmd(rec(t1), { action: 'ring', status: 180, reliable: true });
    assert.equal(t2.responses.length, 0);
    const t3 = cmd(rec(t2), { action: 'answer', sdp: ANSWER });
    assert.equal(t3.responses.length, 0);

    // Retransmission of the unacknowledged 183.
    const rt = handleTimer(config, rec(t3), 'rel-retransmit', T0 + 500);
    assert.equal(rt.responses[0]?.response.status, 183);

    const wrong = req(rec(rt), inDialog('PRACK', 2, ['RAck: 7 1 INVITE']));
    assert.equal(wrong.responses[0]?.response.status, 481);

    const prack = req(rec(rt), inDialog('PRACK', 2, ['RAck: 1 1 INVITE']));
    assert.deepEqual(prack.responses.map((r) => [r.target.to, r.response.status]), [['request', 200], ['invite', 200]]);
    assert.equal(rec(prack).phase, 'answered');
    assert.ok(prack.cancelTimers.includes('rel-retransmit'));
  });

  it('queued reliable provisionals go out one per PRACK with increasing RSeq', () => {
    const { rec: r0 } = start(['Require: 100rel']);
    const t1 = cmd(r0, { action: 'ring' });
    assert.equal(header(t1.responses[0]?.response.headers ?? [], 'RSeq'), '1');
    const t2 = cmd(rec(t1), { action: 'ring' });
    assert.equal(t2.responses.length, 0);
    const p1 = req(rec(t2), inDialog('PRACK', 2, ['RAck: 1 1 INVITE']));
    assert.equal(header(p1.responses[1]?.response.headers ?? [], 'RSeq'), '2');
    const ringUnreliable = handleCommand(config, rec(p1), { action: 'ring', reliable: false }, T0);
    assert.equal(ringUnreliable.ok ? undefined : ringUnreliable.code, 'INVALID');
  });

  it('no PRACK in 64*T1: 5xx to the INVITE', () => {
    const t1 = cmd(start(['Require: 100rel']).rec, { action: 'ring' });
    const t = handleTimer(config, rec(t1), 'rel-timeout', T0 + 32_000);
    assert.equal(t.responses[0]?.response.status, 504);
    assert.equal(rec(t).phase, 'ended');
  });
});

describe('dialog: in-dialog requests', () => {
  function confirmed(extra: string[] = []): DialogRecord {
    const a = cmd(start(extra).rec, { action: 'answer', sdp: ANSWER });
    return rec(req(rec(a), inDialog('ACK', 1, [], '', 'ACK')));
  }
  const NEW_OFFER = OFFER.replace('4000', '4002');

  it('re-INVITE with new SDP → updated; the controller answers it; ACK clears it', () => {
    const r = confirmed();
    const t = req(r, inDialog('INVITE', 2, ['Contact: <sip:alice@127.0.0.1:5071>', 'Content-Type: application/sdp'], NEW_OFFER));
    assert.deepEqual(t.events, [{ event: 'updated', sdp: NEW_OFFER }]);
    assert.equal(rec(t).remoteTarget, 'sip:alice@127.0.0.1:5071');
    const a = cmd(rec(t), { action: 'answer', sdp: ANSWER });
    assert.deepEqual(a.responses[0]?.target, { to: 'txn', txn: 'txn-INVITE-2' });
    assert.equal(a.responses[0]?.response.status, 200);
    assert.equal(header(a.responses[0]?.response.headers ?? [], 'CSeq'), '2 INVITE');
    const ack = req(rec(a), inDialog('ACK', 2, [], '', 'ACK'));
    assert.equal(rec(ack).incoming, undefined);
  });

  it('§9.2: CANCEL of a re-INVITE not answered yet → 487 to the re-INVITE; the session stays as it was (§14.2)', () => {
    const r = confirmed();
    const offered = rec(req(r, inDialog('INVITE', 2, ['Content-Type: application/sdp'], NEW_OFFER)));
    assert.equal(offered.remoteSdp, OFFER, 'the offer changes nothing until it is answered');
    // The CANCEL's To is the re-INVITE's, with our tag.
    const cancel = request([
      'CANCEL sip:bob@127.0.0.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-INVITE-2',
      'From: "Alice" <sip:alice@example.com>;tag=alice1',
      'To: <sip:bob@example.com>;tag=bob1',
      'Call-ID: call-1@127.0.0.1',
      'CSeq: 2 CANCEL',
      'Max-Forwards: 70',
    ]);
    const t = req(offered, cancel);
    assert.deepEqual(t.responses.map((x) => [x.target, x.response.status, header(x.response.headers, 'CSeq')]), [
      [{ to: 'request' }, 200, '2 CANCEL'],
      [{ to: 'txn', txn: 'txn-INVITE-2' }, 487, '2 INVITE'],
    ]);
    const after = rec(t);
    assert.equal(after.incoming, undefined);
    assert.equal(after.phase, 'confirmed');
    assert.equal(after.remoteSdp, OFFER);
    assert.deepEqual(t.events, []);
    const late = handleCommand(config, after, { action: 'answer', sdp: ANSWER }, T0);
    assert.equal(late.ok, false, 'the controller\'s late answer answers nothing');
    // The next re-INVITE is a new offer as usual.
    const next = req(after, inDialog('INVITE', 3, ['Content-Type: application/sdp'], NEW_OFFER));
    assert.deepEqual(next.events, [{ event: 'updated', sdp: NEW_OFFER }]);
    assert.equal(rec(cmd(rec(next), { action: 'answer', sdp: ANSWER })).remoteSdp, NEW_OFFER, 'answered: the offer is the session now');
    // Once answered, a CANCEL of the re-INVITE is too late: 200 to the CANCEL only (§9.2).
    const answered = rec(cmd(offered, { action: 'answer', sdp: ANSWER }));
    assert.deepEqual(req(answered, cancel).responses.map((x) => x.response.status), [200]);
  });

  it('a session refresh re-INVITE without SDP is answered at once with our SDP', () => {
    const t = req(confirmed(), inDialog('INVITE', 2));
    assert.equal(t.responses[0]?.response.status, 200);
    assert.equal(t.responses[0]?.response.body?.content, ANSWER);
    assert.deepEqual(t.events, []);
  });

  it('UPDATE with SDP (RFC 3311) → updated, answered by the controller', () => {
    const t = req(confirmed(), inDialog('UPDATE', 2, ['Content-Type: application/sdp'], NEW_OFFER));
    assert.equal(t.events[0]?.event, 'updated');
    const a = cmd(rec(t), { action: 'answer', sdp: ANSWER });
    assert.equal(a.responses[0]?.response.status, 200);
    assert.equal(rec(a).incoming, undefined);
  });

  it('glare: a re-INVITE while ours is pending gets 491; our 491 schedules a retry', () => {
    const r = confirmed();
    const ours = cmd(r, { action: 'update', sdp: NEW_OFFER });
    assert.equal(ours.requests[0]?.method, 'INVITE');
    assert.equal(header(ours.requests[0]?.headers ?? [], 'CSeq'), '1 INVITE');
    const theirs = req(rec(ours), inDialog('INVITE', 2, ['Content-Type: application/sdp'], NEW_OFFER));
    assert.equal(theirs.responses[0]?.response.status, 491);
    const resp = response(['SIP/2.0 491 Request Pending', 'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-x', 'From: <sip:bob@example.com>;tag=bob1', 'To: "Alice" <sip:alice@example.com>;tag=alice1', 'Call-ID: call-1@127.0.0.1', 'CSeq: 1 INVITE']);
    const g = handleResponse(config, rec(theirs), resp, T0, () => 0.5);
    assert.deepEqual(g.timers, [{ name: 'glare-retry', at: T0 + 1000 }]);
    const retry = handleTimer(config, rec(g), 'glare-retry', T0 + 1000);
    assert.equal(header(retry.requests[0]?.headers ?? [], 'CSeq'), '2 INVITE');
    // The retry is the same offer: its session timer headers too (RFC 4028 §7.4), or the peer drops the timer.
    assert.equal(header(retry.requests[0]?.headers ?? [], 'Session-Expires'), header(ours.requests[0]?.headers ?? [], 'Session-Expires'));
    assert.equal(header(retry.requests[0]?.headers ?? [], 'Session-Expires'), '1800;refresher=uac');
    const okResp = response(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-y', 'From: <sip:bob@example.com>;tag=bob1', 'To: "Alice" <sip:alice@example.com>;tag=alice1', 'Call-ID: call-1@127.0.0.1', 'CSeq: 2 INVITE', 'Contact: <sip:alice@127.0.0.1:5070>', 'Content-Type: application/sdp'], ANSWER);
    const done = handleResponse(config, rec(retry), okResp, T0 + 1100);
    assert.equal(done.requests[0]?.method, 'ACK');
    assert.equal(header(done.requests[0]?.headers ?? [], 'CSeq'), '2 ACK');
    assert.equal(rec(done).outgoing, undefined);
    assert.equal(done.events[0]?.event, 'updated');
  });

  it('§14.2: a re-INVITE before the first INVITE is answered gets 500 with Retry-After', () => {
    const ringing = rec(cmd(start().rec, { action: 'ring' }));
    const t = req(ringing, inDialog('INVITE', 2, ['Content-Type: application/sdp'], NEW_OFFER));
    assert.equal(t.responses[0]?.response.status, 500);
    assert.equal(header(t.responses[0]?.response.headers ?? [], 'Retry-After'), '5');
  });

  it('INFO with application/dtmf-relay → dtmf; other INFO → info', () => {
    const r = confirmed();
    const d = req(r, inDialog('INFO', 2, ['Content-Type: application/dtmf-relay'], 'Signal=5\r\nDuration=160\r\n'));
    assert.equal(d.responses[0]?.response.status, 200);
    assert.deepEqual(d.events, [{ event: 'dtmf', dtmf: { digit: '5', duration: 160 } }]);
    const i = req(rec(d), inDialog('INFO', 3, ['Content-Type: application/x-thing'], 'hello'));
    assert.deepEqual(i.events, [{ event: 'info', contentType: 'application/x-thing', body: 'hello' }]);
    assert.deepEqual(parseDtmf('application/dtmf', '11'), { digit: '#' });
    assert.equal(parseDtmf('application/dtmf-relay', 'Signal=X'), undefined);
  });

  it('INFO command sends INFO with the next CSeq', () => {
    const t = cmd(confirmed(), { action: 'info', contentType: 'application/dtmf-relay', body: 'Signal=1\r\nDuration=100\r\n' });
    assert.equal(t.requests[0]?.method, 'INFO');
    assert.equal(t.requests[0]?.body?.contentType, 'application/dtmf-relay');
  });

  it('§12.2.2: a CSeq not above the remote CSeq gets 500; an unknown dialog gets 481', () => {
    const r = confirmed();
    const t = req(rec(req(r, inDialog('INFO', 5))), inDialog('INFO', 4));
    assert.equal(t.responses[0]?.response.status, 500);
    const stranger = request(['BYE sip:bob@h SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK9', 'From: <sip:a@h>;tag=zzz', 'To: <sip:bob@h>;tag=bob1', 'Call-ID: call-1@127.0.0.1', 'CSeq: 9 BYE']);
    assert.equal(req(r, stranger).responses[0]?.response.status, 481);
  });

  it('RFC 4028: we refresh at half the interval; a peer refresher that stays silent gets a BYE', () => {
    const r = confirmed();
    const refresh = handleTimer(config, r, 'session-refresh', T0 + 900_000);
    assert.equal(refresh.requests[0]?.method, 'INVITE');
    // RFC 4028 §7.4: in our own refresh request we are its UAC: `uac` names us.
    assert.equal(header(refresh.requests[0]?.headers ?? [], 'Session-Expires'), '1800;refresher=uac');

    const peer = confirmed(['Supported: timer', 'Session-Expires: 600;refresher=uac']);
    assert.equal(peer.timer?.refresher, 'remote');
    const expired = handleTimer(config, peer, 'session-expire', T0 + 600_000);
    assert.equal(expired.requests[0]?.method, 'BYE');
    assert.equal(rec(expired).ended?.cause, 'RECOVERY_ON_TIMER_EXPIRE');
    // The peer's refresh re-arms the expiry timer.
    const t = req(peer, inDialog('UPDATE', 2));
    assert.equal(t.responses[0]?.response.status, 200);
    assert.equal(t.timers[0]?.name, 'session-expire');
  });

  it('RFC 4028 §10: a refresh answered with an unexpected non-2xx is tried again before the session expires, without a failed event', () => {
    const r = confirmed();
    const sent = T0 + 900_000;
    const refresh = handleTimer(config, r, 'session-refresh', sent);
    assert.equal(header(refresh.requests[0]?.headers ?? [], 'CSeq'), '1 INVITE');
    const refused = response(['SIP/2.0 500 Server Internal Error', 'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-x', 'From: <sip:bob@example.com>;tag=bob1', 'To: "Alice" <sip:alice@example.com>;tag=alice1', 'Call-ID: call-1@127.0.0.1', 'CSeq: 1 INVITE']);
    const t = handleResponse(config, rec(refresh), refused, sent + 50);
    assert.deepEqual(t.events, [], 'no failed event: the call goes on');
    assert.equal(rec(t).outgoing, undefined);
    assert.equal(rec(t).phase, 'confirmed');
    // 1800 s: the peer gives up 1768 s after the last refresh, 868 s after this one: half of that.
    assert.deepEqual(t.timers, [{ name: 'session-refresh', at: sent + 50 + 434_000 }]);
    const again = handleTimer(config, rec(t), 'session-refresh', sent + 50 + 434_000);
    assert.equal(again.requests[0]?.method, 'INVITE');
    assert.equal(header(again.requests[0]?.headers ?? [], 'CSeq'), '2 INVITE');
    // A controller's own re-INVITE that fails is still reported (an `updated` with the refusal's
    // status: the call goes on, so not `failed`), and arms nothing.
    const mine = cmd(r, { action: 'update', sdp: NEW_OFFER });
    const failed = handleResponse(config, rec(mine), refused, T0 + 100);
    assert.deepEqual(failed.events, [{ event: 'updated', status: 500, reason: 'Server Internal Error', offerFailed: true }]);
    assert.deepEqual(failed.timers, []);
  });

  it('RFC 4028: the refresher parameter is relative to each transaction (our refresh says uac, our 2xx to the peer\'s says uas)', () => {
    // We refresh (the UAC did not name a refresher and supports timers: it does; here it asks us to).
    const ours = confirmed(['Supported: timer', 'Session-Expires: 600;refresher=uas']);
    assert.equal(ours.timer?.refresher, 'local');
    const update = cmd(ours, { action: 'update', sdp: NEW_OFFER, method: 'UPDATE' });
    assert.equal(header(update.requests[0]?.headers ?? [], 'Session-Expires'), '600;refresher=uac');
    // The peer refreshes: its refresh UPDATE gets a 2xx that keeps it the refresher (uac of that
    // transaction) and carries Require: timer (§9).
    const peer = confirmed(['Supported: timer', 'Session-Expires: 600;refresher=uac']);
    const ok = req(peer, inDialog('UPDATE', 2)).responses[0]?.response;
    assert.equal(header(ok?.headers ?? [], 'Session-Expires'), '600;refresher=uac');
    assert.equal(header(ok?.headers ?? [], 'Require'), 'timer');
  });

  it('RFC 4028 §9: a UAC without timer support never becomes the refresher, even when a proxy asked for uac', () => {
    const r = confirmed(['Session-Expires: 600;refresher=uac']);
    assert.equal(r.timer?.refresher, 'local');
    assert.equal(r.timer?.peerSupports, false);
    assert.equal(handleTimer(config, r, 'session-refresh', T0 + 300_000).requests[0]?.method, 'INVITE');
  });

  /** A response from the peer (bob1) to our in-dialog request with this CSeq. */
  function peerResponse(status: string, cseq: string, extra: string[] = [], body = ''): ReturnType<typeof response> {
    return response(
      [`SIP/2.0 ${status}`, 'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-x', 'From: <sip:bob@example.com>;tag=bob1', 'To: "Alice" <sip:alice@example.com>;tag=alice1', 'Call-ID: call-1@127.0.0.1', `CSeq: ${cseq}`, ...extra, ...(body === '' ? [] : ['Content-Type: application/sdp'])],
      body,
    );
  }

  it('§14.1: our re-INVITE refused with 488 leaves the local SDP the one last agreed; the next offer, answered, becomes it', () => {
    const r = confirmed();
    assert.equal(r.localSdp, ANSWER);
    const sent = cmd(r, { action: 'update', sdp: NEW_OFFER });
    assert.equal(sent.requests[0]?.body?.content, NEW_OFFER);
    assert.equal(rec(sent).localSdp, ANSWER, 'an offer in flight is not the session yet');
    const refused = handleResponse(config, rec(sent), peerResponse('488 Not Acceptable Here', '1 INVITE'), T0 + 10);
    assert.equal(rec(refused).localSdp, ANSWER, 'the refused offer is not the session');
    assert.equal(rec(refused).remoteSdp, OFFER);
    assert.equal(rec(refused).outgoing, undefined);
    assert.equal(rec(refused).phase, 'confirmed');
    assert.deepEqual(refused.events, [{ event: 'updated', status: 488, reason: 'Not Acceptable Here', offerFailed: true }]);
    // A session refresh now offers the session that holds, not the refused one.
    const refresh = handleTimer(config, rec(refused), 'session-refresh', T0 + 900_000);
    assert.equal(refresh.requests[0]?.body?.content, ANSWER);
    // UPDATE refused the same way.
    const upd = cmd(rec(refused), { action: 'update', sdp: NEW_OFFER, method: 'UPDATE' }, T0 + 20);
    const updRefused = handleResponse(config, rec(upd), peerResponse('488 Not Acceptable Here', '2 UPDATE'), T0 + 30);
    assert.equal(rec(updRefused).localSdp, ANSWER);
    // Answered: the offer is the session now.
    const again = cmd(rec(updRefused), { action: 'update', sdp: NEW_OFFER }, T0 + 40);
    const ok = handleResponse(config, rec(again), peerResponse('200 OK', '3 INVITE', ['Contact: <sip:alice@127.0.0.1:5070>'], OFFER), T0 + 50);
    assert.equal(rec(ok).localSdp, NEW_OFFER);
  });

  it('§14.2: reject while the call is up refuses the peer\'s pending re-INVITE/UPDATE (the call and its session stay); without one it is BAD_STATE', () => {
    const r = confirmed();
    const offered = rec(req(r, inDialog('INVITE', 2, ['Content-Type: application/sdp'], NEW_OFFER)));
    const t = cmd(offered, { action: 'reject', status: 488 });
    assert.deepEqual(t.responses.map((x) => [x.target, x.response.status, header(x.response.headers, 'CSeq'), header(x.response.headers, 'To')]), [
      [{ to: 'txn', txn: 'txn-INVITE-2' }, 488, '2 INVITE', '<sip:bob@example.com>;tag=bob1'],
    ]);
    const after = rec(t);
    assert.equal(after.phase, 'confirmed');
    assert.equal(after.incoming, undefined);
    assert.equal(after.remoteSdp, OFFER, 'the refused offer is not the session');
    assert.deepEqual(t.events, []);
    const update = rec(req(after, inDialog('UPDATE', 3, ['Content-Type: application/sdp'], NEW_OFFER)));
    assert.equal(cmd(update, { action: 'reject', status: 503, reason: 'Busy Elsewhere' }).responses[0]?.response.reason, 'Busy Elsewhere');
    const redirect = handleCommand(config, update, { action: 'reject', status: 302 }, T0);
    assert.equal(redirect.ok ? undefined : redirect.code, 'INVALID', 'a re-INVITE is not redirected');
    const none = handleCommand(config, after, { action: 'reject', status: 488 }, T0);
    assert.equal(none.ok ? undefined : none.code, 'BAD_STATE', 'no pending offer: the call itself is not rejected');
  });

  it('§15.1.2: our BYE answers a re-INVITE of the peer still waiting for our answer with 487', () => {
    const offered = rec(req(confirmed(), inDialog('INVITE', 2, ['Content-Type: application/sdp'], NEW_OFFER)));
    const t = cmd(offered, { action: 'hangup' });
    assert.deepEqual(t.responses.map((x) => [x.target, x.response.status]), [[{ to: 'txn', txn: 'txn-INVITE-2' }, 487]]);
    assert.equal(t.requests[0]?.method, 'BYE');
  });

  it('RFC 4028 §7.3: a 422 to our refresh → sent again once with Session-Expires and Min-SE raised to the 422\'s Min-SE', () => {
    const r = confirmed();
    const sent = T0 + 900_000;
    const refresh = handleTimer(config, r, 'session-refresh', sent);
    assert.equal(header(refresh.requests[0]?.headers ?? [], 'Session-Expires'), '1800;refresher=uac');
    const tooSmall = handleResponse(config, rec(refresh), peerResponse('422 Session Interval Too Small', '1 INVITE', ['Min-SE: 3600']), sent + 10);
    assert.deepEqual(tooSmall.events, []);
    const retry = tooSmall.requests[0];
    assert.equal(retry?.method, 'INVITE');
    assert.equal(header(retry.headers, 'CSeq'), '2 INVITE');
    assert.equal(header(retry.headers, 'Session-Expires'), '3600;refresher=uac');
    assert.equal(header(retry.headers, 'Min-SE'), '3600');
    assert.equal(retry.body?.content, ANSWER, 'the same offer: the session that holds');
    assert.equal(rec(tooSmall).timer?.interval, 3600);
    // Once: a second 422 is a refusal like any other (refresh tried again later, no new INVITE now).
    const again = handleResponse(config, rec(tooSmall), peerResponse('422 Session Interval Too Small', '2 INVITE', ['Min-SE: 7200']), sent + 20);
    assert.deepEqual(again.requests, []);
    assert.equal(again.timers[0]?.name, 'session-refresh');
    // The retry answered: the refresh timer runs on the new interval (half of 3600 s).
    const ok = handleResponse(config, rec(tooSmall), peerResponse('200 OK', '2 INVITE', ['Contact: <sip:alice@127.0.0.1:5070>'], OFFER), sent + 30);
    assert.deepEqual(ok.timers, [{ name: 'session-refresh', at: sent + 30 + 1_800_000 }]);
    // A 422 whose Min-SE is not above our interval, or missing, or absurd, is not retried.
    for (const extra of [['Min-SE: 1800'], [], ['Min-SE: 999999'], ['Min-SE: x']]) {
      const t = handleResponse(config, rec(refresh), peerResponse('422 Session Interval Too Small', '1 INVITE', extra), sent + 10);
      assert.deepEqual(t.requests, [], extra.join());
    }
    // A controller's UPDATE refused with 422 goes again the same way.
    const upd = cmd(r, { action: 'update', sdp: NEW_OFFER, method: 'UPDATE' });
    const updRetry = handleResponse(config, rec(upd), peerResponse('422 Session Interval Too Small', '1 UPDATE', ['Min-SE: 2000']), T0 + 10);
    assert.equal(updRetry.requests[0]?.method, 'UPDATE');
    assert.equal(updRetry.requests[0]?.body?.content, NEW_OFFER);
    assert.equal(header(updRetry.requests[0]?.headers ?? [], 'Session-Expires'), '2000;refresher=uac');
  });

  it('the record survives a JSON round trip through the store (another instance continues the call)', async () => {
    const store = new MemoryDialogStore();
    const r = confirmed();
    assert.equal(await store.put('c1', JSON.parse(JSON.stringify(r)) as DialogRecord, undefined), true);
    const stored = await store.get('c1');
    assert.ok(stored);
    const bye = req(stored.value, inDialog('BYE', 2));
    assert.equal(bye.responses[0]?.response.status, 200);
    assert.equal(await store.put('c1', rec(bye), stored.revision), true);
    assert.equal(await store.put('c1', rec(bye), stored.revision), false);
  });
});
