/**
 * Late offer end to end (RFC 3261 §13.2.1: an INVITE without SDP, the offer in the 2xx, the answer
 * in the ACK) through the real transport and ua, with SIPp on both sides:
 * - bridge: a SIPp caller sends an INVITE without SDP (test/sipp/uac-late-offer*.xml); a controller
 *   bridges it to a SIPp callee (test/sipp/uas-late-offer*.xml) that answers with an offer. Its offer
 *   must reach the caller in our 200, and the caller's answer the callee in its ACK; an ACK without
 *   an answer, or no ACK at all, ends both legs.
 * - originate without `sdp`: the callee's offer reaches the controller in `answered`, the
 *   controller's `answer` goes in the ACK; no answer in 64·T1 → ACK refusing the offer, BYE.
 * SIPp checks the bodies it receives (ereg check_it); the test checks the raw messages the
 * transport sent as well. T1 is 100 ms here (64·T1 = 6.4 s) so the timeouts are short.
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp, startSipp, type SippResult, type SippRun } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

/** The controller's answer for an originate: the same stream the SIPp callee checks in the ACK. */
const ANSWER = 'v=0\r\no=ctl 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6100 RTP/AVP 0\r\n';
const T1 = 100;

describe('ua late offer: SIPp ↔ transport ↔ ua (bridge and originate without SDP)', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  const events: CallEvent[] = [];
  const replies: CommandReply[] = [];
  const raw: string[] = [];
  /** Bridge target per called user (the caller's Request-URI user). */
  const targets = new Map<string, string>();

  const logs = (): string => `--- ua ---\n${(ua?.logs ?? []).slice(-40).join('\n')}\n--- transport ---\n${(transport?.logs ?? []).slice(-20).join('\n')}`;
  const trace = (): string => `--- events ---\n${events.map((e) => `${e.call} ${e.event} ${e.status ?? ''} ${e.cause ?? ''}`).join('\n')}\n--- replies ---\n${JSON.stringify(replies)}`;
  const explain = (r: SippResult, who: string): string => `${who}: SIPp exit ${String(r.code)}\n${r.output.slice(-2000)}\n${logs()}\n${trace()}`;
  const remote = (): string => `127.0.0.1:${transport?.ports['udp'] ?? 0}`;

  const command = async (action: string, payload: Record<string, unknown>): Promise<CommandReply> => {
    if (nc === undefined) throw new Error('not connected');
    const m = await nc.request(`sip.cmd.call.${action}`, JSON.stringify({ v: 1, action, ...payload }), { timeout: 5000 });
    const r = decodeJson(CommandReply, m.data);
    if (!r.ok) throw new Error(r.errors.join('; '));
    return r.value;
  };

  const waitFor = async (match: (e: CallEvent) => boolean, what: string, ms = 15_000): Promise<CallEvent> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const ev = events.find(match);
      if (ev !== undefined) return ev;
      if (Date.now() > deadline) throw new Error(`no ${what}\n${trace()}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  /** A SIPp callee on a free port; the caller's calls to `user` are bridged to it. */
  const callee = async (user: string, scenario: string, timeoutMs = 20_000): Promise<{ run: SippRun; uri: string }> => {
    const port = await freePort();
    const uri = `sip:${user}@127.0.0.1:${port}`;
    targets.set(user, uri);
    const run = startSipp({ scenario, localPort: port, timeoutMs });
    await new Promise((r) => setTimeout(r, 200));
    return { run, uri };
  };

  const caller = async (scenario: string, user: string, timeoutMs = 15_000): Promise<SippResult> =>
    runSipp({ scenario, remote: remote(), localPort: await freePort(), timeoutMs, args: ['-s', user, '-recv_timeout', String(timeoutMs - 2000)] });

  /** The inbound call whose INVITE went to `user`, and the raw messages of a SIP Call-ID. */
  const inboundOf = (user: string): CallEvent | undefined => events.find((e) => e.direction === 'inbound' && e.event === 'offer' && e.to.uri.includes(`${user}@`));
  const rawOf = (callId: string, startLine: RegExp): string[] => raw.filter((m) => startLine.test(m) && m.includes(`Call-ID: ${callId}\r\n`));

  before(async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-late', transports: ['udp'], env: { SIP_T1: `${T1}ms` } });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-late', env: { SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_SWEEP_INTERVAL: '200ms', SIP_T1: `${T1}ms` } });
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const sub = conn.subscribe('sip.evt.call.*');
    void (async () => {
      for await (const m of sub) {
        const r = decodeJson(CallEvent, m.data);
        if (!r.ok) continue;
        events.push(r.value);
        if (r.value.event !== 'offer' || r.value.direction !== 'inbound') continue;
        const user = /^sips?:([^@;]+)@/.exec(r.value.to.uri)?.[1] ?? '';
        const target = targets.get(user);
        const reply = await conn
          .request('sip.cmd.call.bridge', JSON.stringify({ v: 1, action: 'bridge', call: r.value.call, ...(target === undefined ? {} : { target }) }), { timeout: 5000 })
          .catch(() => undefined);
        const d = reply === undefined ? undefined : decodeJson(CommandReply, reply.data);
        replies.push(d?.ok === true ? d.value : { v: 1, ok: false, error: d?.ok === false ? d.errors.join('; ') : 'no reply' });
      }
    })();
    const rawSub = conn.subscribe('sip.raw.out.>');
    void (async () => {
      for await (const m of rawSub) if (raw.push(Buffer.from(m.data).toString('utf8')) > 500) raw.splice(0, 250);
    })();
    await conn.flush();
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
  });

  it("bridge: the callee's 2xx offer reaches the caller in our 200, the caller's ACK answer reaches the callee in its ACK; BYE end to end", async () => {
    const { run } = await callee('lara', 'uas-late-offer.xml');
    const r = await caller('uac-late-offer.xml', 'lara');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const c = await run.done;
    assert.equal(c.code, 0, explain(c, 'callee'));
    assert.ok(replies.every((x) => x.ok), JSON.stringify(replies));
    const inbound = inboundOf('lara');
    assert.ok(inbound !== undefined && inbound.sdp === undefined, 'the offer event has no SDP');
    const leg = await waitFor((e) => e.call === `${inbound.call}-b1` && e.event === 'answered', 'leg answered');
    await waitFor((e) => e.call === inbound.call && e.event === 'ended', 'inbound ended');
    await waitFor((e) => e.call === leg.call && e.event === 'ended', 'leg ended');
    // What the transport sent: the leg's INVITE without SDP, our 200 with the callee's offer, the leg's ACK with the caller's answer.
    const [legInvite] = rawOf(leg.sipCallId, /^INVITE /);
    assert.ok(legInvite !== undefined && !legInvite.includes('m=audio') && /\r\nContent-Length: 0\r\n/i.test(legInvite), legInvite);
    assert.doesNotMatch(legInvite, /Supported:[^\r]*100rel/, 'a late offer does not offer 100rel');
    const [okToCaller] = rawOf(inbound.sipCallId, /^SIP\/2\.0 200 /).filter((m) => m.includes(' INVITE\r\n'));
    assert.match(okToCaller ?? '', /\r\nm=audio 7300 RTP\/AVP 0\r\n/);
    const acks = rawOf(leg.sipCallId, /^ACK /);
    assert.equal(acks.length, 1, acks.join('\n----\n'));
    assert.match(acks[0] ?? '', /\r\nContent-Type: application\/sdp\r\n[\s\S]*\r\nm=audio 6100 RTP\/AVP 0\r\n/);
  });

  it('bridge: an ACK without the answer ends both legs (BYE to the caller, ACK refusing the offer + BYE to the callee; cause MANDATORY_IE_MISSING)', async () => {
    const { run } = await callee('mona', 'uas-late-offer-refused.xml');
    const r = await caller('uac-late-offer-noanswer.xml', 'mona');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const c = await run.done;
    assert.equal(c.code, 0, explain(c, 'callee'));
    const inbound = inboundOf('mona');
    assert.ok(inbound !== undefined);
    const ended = await waitFor((e) => e.call === inbound.call && e.event === 'ended', 'inbound ended');
    assert.equal(ended.cause, 'MANDATORY_IE_MISSING');
    const legEnded = await waitFor((e) => e.call === `${inbound.call}-b1` && e.event === 'ended', 'leg ended');
    assert.equal(legEnded.cause, 'MANDATORY_IE_MISSING');
  });

  it('bridge: a caller that never ACKs is BYEd after 64·T1, and so is the callee (after an ACK refusing its offer)', async () => {
    const { run } = await callee('nina', 'uas-late-offer-refused.xml');
    const r = await caller('uac-late-offer-noack.xml', 'nina');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const c = await run.done;
    assert.equal(c.code, 0, explain(c, 'callee'));
    const inbound = inboundOf('nina');
    assert.ok(inbound !== undefined);
    const ended = await waitFor((e) => e.call === inbound.call && e.event === 'ended', 'inbound ended');
    assert.equal(ended.cause, 'RECOVERY_ON_TIMER_EXPIRE');
    await waitFor((e) => e.call === `${inbound.call}-b1` && e.event === 'ended', 'leg ended');
  });

  it("originate without sdp: the callee's offer in answered, the controller's answer in the ACK; hangup sends BYE", async () => {
    const { run, uri } = await callee('olga', 'uas-late-offer.xml');
    const call = 'late-orig-1';
    const reply = await command('originate', { call, from: 'sip:ctl@example.com', to: uri });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    const answered = await waitFor((e) => e.call === call && (e.event === 'answered' || e.event === 'failed'), 'answered');
    assert.equal(answered.event, 'answered', trace());
    assert.match(answered.sdp ?? '', /m=audio 7300 RTP\/AVP 0/);
    assert.equal(rawOf(answered.sipCallId, /^ACK /).length, 0, 'no ACK before the answer');
    assert.equal((await command('answer', { call, sdp: ANSWER })).ok, true);
    await waitFor((e) => e.call === call && e.event === 'confirmed', 'confirmed');
    assert.equal((await command('answer', { call, sdp: ANSWER })).code, 'CONFLICT');
    assert.equal((await command('hangup', { call })).ok, true);
    const c = await run.done;
    assert.equal(c.code, 0, explain(c, 'callee'));
    const ended = await waitFor((e) => e.call === call && e.event === 'ended', 'ended');
    assert.equal(ended.cause, 'NORMAL_CLEARING');
    const [ack] = rawOf(answered.sipCallId, /^ACK /);
    assert.match(ack ?? '', /\r\nm=audio 6100 RTP\/AVP 0\r\n/);
  });

  it('originate without sdp and no answer from the controller: after 64·T1 an ACK refusing the offer, then BYE; ended RECOVERY_ON_TIMER_EXPIRE', async () => {
    const { run, uri } = await callee('paula', 'uas-late-offer-refused.xml');
    const call = 'late-orig-2';
    assert.equal((await command('originate', { call, from: 'sip:ctl@example.com', to: uri })).ok, true);
    await waitFor((e) => e.call === call && e.event === 'answered', 'answered');
    const ended = await waitFor((e) => e.call === call && (e.event === 'ended' || e.event === 'failed'), 'ended', 64 * T1 + 10_000);
    assert.equal(ended.event, 'ended');
    assert.equal(ended.cause, 'RECOVERY_ON_TIMER_EXPIRE');
    const c = await run.done;
    assert.equal(c.code, 0, explain(c, 'callee'));
    assert.equal(events.filter((e) => e.call === call && (e.event === 'ended' || e.event === 'failed')).length, 1, 'one final event');
  });
});
