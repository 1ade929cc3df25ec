/**
 * Late offer (RFC 3261 §13.2.1: an INVITE without SDP; the offer in the 2xx, the answer in the ACK)
 * in the pure cores: the UAS dialog (our 200 makes the offer, the peer's ACK answers it) and the
 * UAC session (the 2xx's ACK waits for the answer, bounded by 64·T1).
 */
import assert from 'node:assert/strict';
import type { SipRequest } from '@sipnats/sip-codec';
import { handleCommand } from '../src/dialog/commands.js';
import { handleRequest } from '../src/dialog/in-dialog.js';
import { acceptInvite } from '../src/dialog/uas-invite.js';
import type { DialogConfig, DialogRecord, Transition } from '../src/dialog/types.js';
import { handleUacCommand, handleUacTimer } from '../src/uac/control.js';
import { refusingAnswer } from '../src/uac/late-offer.js';
import { handleUacResponse } from '../src/uac/response.js';
import { startOutboundCall } from '../src/uac/start.js';
import type { UacConfig, UacRecord, UacRequest, UacTransition } from '../src/uac/types.js';
import { FakeClock, seededRandom } from './support/fakes.js';
import { header, request, response } from './support/sip.js';

const T0 = 1_700_000_000_000;
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\nm=video 4002 RTP/AVP 96\r\n';
const ANSWER = 'v=0\r\no=- 2 2 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n';

describe('late offer, UAS dialog core (RFC 3261 §13.2.1, §13.3.1.4)', () => {
  const config: DialogConfig = { answerTimeoutMs: 30_000, noAnswerStatus: 480, sessionExpires: 0, minSE: 90 };

  function sip(method: string, cseq: number, body = '', toTag = true): SipRequest {
    return request([
      `${method} sip:bob@127.0.0.1:5060 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-${method}-${cseq}`,
      'From: <sip:alice@example.com>;tag=alice1',
      `To: <sip:bob@example.com>${toTag ? ';tag=bob1' : ''}`,
      'Call-ID: late-1@127.0.0.1',
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:alice@127.0.0.1:5070>',
      'Max-Forwards: 70',
      ...(body === '' ? [] : ['Content-Type: application/sdp']),
    ], body);
  }

  function answered(): DialogRecord {
    const accepted = acceptInvite(config, { call: 'c1', request: sip('INVITE', 1, '', false), txn: 'txn-inv', localTag: 'bob1', localContact: 'sip:ua@127.0.0.1:5080', now: T0 });
    assert.equal(accepted.kind, 'accepted');
    const t0 = accepted.kind === 'accepted' ? accepted.transition : undefined;
    assert.deepEqual(t0?.events, [{ event: 'offer' }], 'the offer event has no SDP');
    assert.ok(t0?.record);
    assert.equal(t0.record.remoteSdp, undefined);
    const a = handleCommand(config, t0.record, { action: 'answer', sdp: OFFER }, T0);
    assert.ok(a.ok);
    const ok = a.transition.responses[0]?.response;
    assert.equal(ok?.status, 200);
    assert.equal(ok?.body?.content, OFFER, 'the controller\'s SDP is the offer in the 200');
    assert.ok(a.transition.record);
    return a.transition.record;
  }

  const ack = (r: DialogRecord, body: string): Transition => handleRequest(config, r, { request: sip('ACK', 1, body), txn: '', now: T0 + 100 });

  it('the ACK carries the answer: confirmed with that SDP as the remote session', () => {
    const t = ack(answered(), ANSWER);
    assert.equal(t.record?.phase, 'confirmed');
    assert.equal(t.record?.remoteSdp, ANSWER);
    assert.equal(t.record?.localSdp, OFFER);
    assert.deepEqual(t.events, [{ event: 'confirmed', sdp: ANSWER }]);
    assert.equal(t.requests.length, 0);
  });

  it('an ACK without the answer: BYE with Reason Q.850 96, ended MANDATORY_IE_MISSING', () => {
    const t = ack(answered(), '');
    assert.equal(t.record?.phase, 'ended');
    const bye = t.requests[0];
    assert.equal(bye?.method, 'BYE');
    assert.match(header(bye.headers, 'Reason') ?? '', /^Q\.850;cause=96;text="no SDP answer in the ACK"$/);
    assert.deepEqual(t.events.map((e) => [e.event, e.cause]), [['ended', 'MANDATORY_IE_MISSING']]);
    assert.ok(t.cancelTimers.includes('ack-timeout'));
  });

  it('early offer is unchanged: an ACK without SDP confirms', () => {
    const accepted = acceptInvite(config, { call: 'c2', request: sip('INVITE', 1, OFFER, false), txn: 'txn-inv', localTag: 'bob1', localContact: 'sip:ua@127.0.0.1:5080', now: T0 });
    assert.ok(accepted.kind === 'accepted' && accepted.transition.record);
    const a = handleCommand(config, accepted.transition.record, { action: 'answer', sdp: ANSWER }, T0);
    assert.ok(a.ok && a.transition.record);
    const t = ack(a.transition.record, '');
    assert.equal(t.record?.phase, 'confirmed');
    assert.deepEqual(t.events, [{ event: 'confirmed' }]);
  });
});

describe('late offer, UAC session core (RFC 3261 §13.2.1, §13.2.2.4; RFC 3264 §6)', () => {
  const config: UacConfig = { answerTimeoutMs: 30_000, noAnswerStatus: 480, sessionExpires: 0, minSE: 90, t1: 500 };

  interface Call {
    clock: FakeClock;
    random: (n: number) => Uint8Array;
    record: UacRecord;
    invite: UacRequest;
  }

  function start(sdp?: string): Call {
    const clock = new FakeClock();
    const random = seededRandom('late');
    const t = startOutboundCall(config, {
      call: 'c-late',
      from: 'sip:alice@127.0.0.1',
      to: 'sip:bob@127.0.0.2',
      requestUri: 'sip:bob@127.0.0.2:5070',
      ...(sdp === undefined ? {} : { sdp }),
      localContact: 'sip:ua@127.0.0.1:5060',
      now: clock.now,
      random,
    });
    const invite = t.requests[0];
    assert.ok(invite);
    return { clock, random, record: t.record, invite };
  }

  function feed(c: Call, status: number, o: { tag?: string; body?: string } = {}): UacTransition {
    const to = header(c.invite.headers, 'To') ?? '';
    const r = response([
      `SIP/2.0 ${status} Whatever`,
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest',
      `From: ${header(c.invite.headers, 'From')}`,
      `To: ${to};tag=${o.tag ?? 'b1'}`,
      `Call-ID: ${header(c.invite.headers, 'Call-ID')}`,
      `CSeq: ${header(c.invite.headers, 'CSeq')}`,
      'Contact: <sip:bob@127.0.0.2:5070>',
      ...(o.body === undefined ? [] : ['Content-Type: application/sdp']),
    ], o.body ?? '');
    const t = handleUacResponse(config, c.record, r, { now: c.clock.now, random: c.random });
    c.record = t.record;
    return t;
  }

  function command(c: Call, cmd: Parameters<typeof handleUacCommand>[2]): UacTransition {
    const o = handleUacCommand(config, c.record, cmd, c.clock.now);
    assert.ok(o.ok, o.ok ? '' : `${o.code}: ${o.error}`);
    c.record = o.transition.record;
    return o.transition;
  }

  /** The offer in the 2xx: no ACK yet, `answered` with the offer, the answer timer at 64·T1. */
  function offered(): Call {
    const c = start();
    const t = feed(c, 200, { body: OFFER });
    assert.deepEqual(t.requests, [], 'no ACK before the answer');
    assert.deepEqual(t.events, [{ event: 'answered', status: 200, sdp: OFFER }]);
    assert.deepEqual(t.timers, [{ name: 'answer-timeout', at: c.clock.now + 32_000 }]);
    assert.equal(c.record.phase, 'answered');
    return c;
  }

  it('the INVITE carries no body and does not offer 100rel', () => {
    const c = start();
    assert.equal(c.invite.body, undefined);
    assert.equal(header(c.invite.headers, 'Supported'), 'timer');
    assert.equal(header(start(OFFER).invite.headers, 'Supported'), '100rel, timer', 'early offer unchanged');
  });

  it('answer → ACK with the answer (CSeq of the INVITE), dialog confirmed with both sessions; 2xx retransmissions get the same ACK; a second answer is CONFLICT', () => {
    const c = offered();
    assert.deepEqual(feed(c, 200, { body: OFFER }).requests, [], 'a retransmitted 2xx before the answer is not ACKed');
    const t = command(c, { action: 'answer', sdp: ANSWER });
    const ack = t.requests[0];
    assert.equal(t.requests.length, 1);
    assert.equal(ack?.method, 'ACK');
    assert.equal(ack.purpose, 'ack');
    assert.equal(header(ack.headers, 'CSeq'), '1 ACK');
    assert.match(header(ack.headers, 'To') ?? '', /;tag=b1$/);
    assert.deepEqual(ack.body, { contentType: 'application/sdp', content: ANSWER });
    assert.deepEqual(t.events, [{ event: 'confirmed' }]);
    assert.ok(t.cancelTimers.includes('answer-timeout'));
    assert.equal(c.record.phase, 'confirmed');
    assert.equal(c.record.dialog?.localSdp, ANSWER);
    assert.equal(c.record.dialog?.remoteSdp, OFFER);
    assert.equal(c.record.awaiting, undefined);
    assert.deepEqual(feed(c, 200, { body: OFFER }).requests, [ack], '§13.2.2.4: the ACK again');
    const again = handleUacCommand(config, c.record, { action: 'answer', sdp: ANSWER }, c.clock.now);
    assert.equal(again.ok ? undefined : again.code, 'CONFLICT');
  });

  it('answer before the 2xx, or on an early-offer call: BAD_STATE', () => {
    const c = start();
    const early = handleUacCommand(config, c.record, { action: 'answer', sdp: ANSWER }, c.clock.now);
    assert.equal(early.ok ? undefined : early.code, 'BAD_STATE');
    const e = start(OFFER);
    const t = handleUacResponse(config, e.record, response([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest',
      `From: ${header(e.invite.headers, 'From')}`,
      `To: ${header(e.invite.headers, 'To')};tag=b1`,
      `Call-ID: ${header(e.invite.headers, 'Call-ID')}`,
      'CSeq: 1 INVITE',
      'Contact: <sip:bob@127.0.0.2:5070>',
      'Content-Type: application/sdp',
    ], ANSWER), { now: e.clock.now, random: e.random });
    assert.equal(t.requests[0]?.method, 'ACK', 'early offer: ACKed at once');
    assert.equal(t.requests[0]?.body, undefined);
    const late = handleUacCommand(config, t.record, { action: 'answer', sdp: ANSWER }, e.clock.now);
    assert.equal(late.ok ? undefined : late.code, 'BAD_STATE');
  });

  it('no answer in 64·T1: ACK refusing every stream (port 0), BYE, ended RECOVERY_ON_TIMER_EXPIRE', () => {
    const c = offered();
    c.clock.advance(32_000);
    const t = handleUacTimer(config, c.record, 'answer-timeout', c.clock.now);
    c.record = t.record;
    assert.deepEqual(t.requests.map((r) => r.method), ['ACK', 'BYE']);
    const refusal = t.requests[0]?.body?.content ?? '';
    assert.deepEqual(refusal.split('\r\n').filter((l) => l.startsWith('m=')), ['m=audio 0 RTP/AVP 0', 'm=video 0 RTP/AVP 96']);
    assert.equal(header(t.requests[1]?.headers ?? [], 'CSeq'), '2 BYE');
    assert.match(header(t.requests[1]?.headers ?? [], 'Reason') ?? '', /cause=102/);
    assert.deepEqual(t.events.map((e) => [e.event, e.cause]), [['ended', 'RECOVERY_ON_TIMER_EXPIRE']]);
    assert.equal(c.record.phase, 'ended');
    assert.deepEqual(feed(c, 200, { body: OFFER }).requests.map((r) => r.method), ['ACK'], 'a late 2xx retransmission gets the same ACK');
    const after = handleUacCommand(config, c.record, { action: 'answer', sdp: ANSWER }, c.clock.now);
    assert.equal(after.ok, false);
  });

  it('hangup while the answer is awaited: ACK refusing the offer, BYE with the cause, ended', () => {
    const c = offered();
    const t = command(c, { action: 'hangup', cause: 'MANDATORY_IE_MISSING', reason: 'no SDP answer in the ACK' });
    assert.deepEqual(t.requests.map((r) => r.method), ['ACK', 'BYE']);
    assert.match(t.requests[0]?.body?.content ?? '', /m=audio 0 RTP\/AVP 0/);
    assert.match(header(t.requests[1]?.headers ?? [], 'Reason') ?? '', /^Q\.850;cause=96;/);
    assert.deepEqual(t.events.map((e) => [e.event, e.cause]), [['ended', 'MANDATORY_IE_MISSING']]);
    assert.ok(t.cancelTimers.includes('answer-timeout'));
  });

  it('a second fork\'s 2xx while the first waits: ACKed with a refusing answer and BYEd; the first still waits', () => {
    const c = offered();
    const t = feed(c, 200, { tag: 'b2', body: OFFER });
    assert.deepEqual(t.requests.map((r) => r.method), ['ACK', 'BYE']);
    assert.match(header(t.requests[0]?.headers ?? [], 'To') ?? '', /;tag=b2$/);
    assert.match(t.requests[0]?.body?.content ?? '', /m=audio 0 /);
    assert.equal(c.record.phase, 'answered');
    assert.equal(c.record.awaiting?.leg.remoteTag, 'b1');
    assert.deepEqual(t.events, []);
  });

  it('a 2xx without an offer: ACK, BYE, failed MANDATORY_IE_MISSING', () => {
    const c = start();
    const t = feed(c, 200);
    assert.deepEqual(t.requests.map((r) => r.method), ['ACK', 'BYE']);
    assert.equal(t.requests[0]?.body, undefined);
    assert.deepEqual(t.events.map((e) => [e.event, e.cause]), [['failed', 'MANDATORY_IE_MISSING']]);
    assert.equal(c.record.phase, 'ended');
  });

  it('refusingAnswer: one port-0 m= line per offered stream, nothing else copied', () => {
    const offer = 'v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=secret\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 111 0\r\na=x\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\nm=bad\r\n';
    const a = refusingAnswer(offer, T0);
    assert.deepEqual(a.split('\r\n').filter((l) => l.startsWith('m=')), ['m=audio 0 UDP/TLS/RTP/SAVPF 111', 'm=application 0 UDP/DTLS/SCTP webrtc-datachannel', 'm=bad 0 RTP/AVP 0']);
    assert.ok(!a.includes('secret') && !a.includes('10.0.0.1'));
    assert.match(a, /^v=0\r\no=- \d+ \d+ IN IP4 0\.0\.0\.0\r\ns=-\r\nc=IN IP4 0\.0\.0\.0\r\nt=0 0\r\n/);
  });
});
