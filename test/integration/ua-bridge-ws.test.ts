/**
 * A call to a WebSocket-registered user whose connection is on the other transport instance
 * (issue 6): transport A listens on UDP, transport B on WebSocket (RFC 7118), different instance
 * ids, one routing secret; one ua with the default routing policy (SIPNATS_ROUTING=bridge) and
 * digest authentication from a users file. A WebSocket client (test/support/ws-sip-client.ts)
 * registers as bob on B; a SIPp UAC on A calls bob. The ua finds bob's binding, whose flow is on
 * B, so the B leg's INVITE must leave through B on that very connection, and the ACK, BYE and
 * the callee's BYE must find their way across both instances. When a WebSocket connection closes,
 * B announces it (`sip.evt.flow.closed`) and the ua removes the registrations bound to it; when
 * that announcement is lost (the ua was down), the 430 Flow Failed of the first call removes them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, decodeJson, fromBase64, OutMessage, RegEvent, subjects } from '@sipnats/contracts';
import type { SipRequest } from '@sipnats/sip-codec';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { startSipp, type SippResult } from '../support/sipp.js';
import { headerLines } from '../support/transport-sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';
import { acceptedDialog, bindingsOf, connectWsSip, isRequest, isResponse, registerWs, respondWs, sendInDialog, type WsSipClient } from '../support/ws-sip-client.js';

const REALM = 'ws-bridge';
const PASSWORD = 'bob-secret';
/** The callee's answer, told apart from SIPp's offer (`o=sipp`, port 6000 by default). */
const WS_SDP = 'v=0\r\no=wsbob 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 47000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

describe('ua bridge to a WebSocket user on the other transport instance (RFC 7118, RFC 5626 flow)', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let a: TransportProcess | undefined;
  let b: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  let dir: string | undefined;
  let bob: WsSipClient | undefined;
  const events: CallEvent[] = [];
  const regEvents: RegEvent[] = [];
  const raw: { subject: string; text: string }[] = [];
  /** What the ua asked transport B to send (`sip.out.<B>`), as SIP text. */
  const toB: string[] = [];

  const portA = (): number => a?.ports['udp'] ?? 0;
  const portB = (): number => b?.ports['ws'] ?? 0;
  /** The domain as callers dial it (SIPp's To is sip:<service>@<its remote address>). */
  const aor = (): string => `sip:bob@127.0.0.1:${portA()}`;

  const logs = (): string =>
    `--- ua ---\n${(ua?.logs ?? []).slice(-40).join('\n')}\n--- transport A ---\n${(a?.logs ?? []).slice(-20).join('\n')}\n--- transport B ---\n${(b?.logs ?? []).slice(-20).join('\n')}` +
    `\n--- ws client received ---\n${(bob?.received ?? []).map((m) => m.text.split('\r\n')[0]).join('\n')}`;
  const explain = (r: SippResult): string => `SIPp exit ${String(r.code)}\n${r.output.slice(-2000)}\n${logs()}`;

  const caller = (scenario: string, localPort: number) =>
    startSipp({ scenario, remote: `127.0.0.1:${portA()}`, localPort, timeoutMs: 20_000, args: ['-s', 'bob', '-recv_timeout', '10000'] });

  /** Raw messages a transport sent (`sip.raw.out.<instance>`) with this Call-ID. */
  const sentBy = (t: TransportProcess | undefined, callId: string): string[] =>
    raw.filter((m) => m.subject === subjects().rawOut(t?.instance ?? '') && m.text.includes(`\r\nCall-ID: ${callId}\r\n`)).map((m) => m.text);

  const startTheUa = (): Promise<UaProcess> =>
    startUa({
      natsUrl: nats?.url ?? '',
      instance: 'ua-ws',
      env: {
        SIPNATS_ROUTING: 'bridge',
        SIPNATS_REALM: REALM,
        SIPNATS_USERS_FILE: join(dir ?? '', 'users.json'),
        SIPNATS_DIGEST_ALGORITHMS: 'MD5',
        SIPNATS_SWEEP_INTERVAL: '200ms',
      },
    });

  /** The registration event matching `match` (waiting for it), after the first `from` events. */
  const regEvent = async (match: (e: RegEvent) => boolean, what: string, from = 0): Promise<RegEvent> => {
    await until(() => regEvents.slice(from).some(match), what);
    return regEvents.slice(from).find(match) as RegEvent;
  };

  const until = async (cond: () => boolean, what: string, ms = 5000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  /** Waits for the INVITE on the WebSocket and checks how it came; answers 180 (and 200 with SDP when `answer`). */
  const takeInvite = async (c: WsSipClient, from: number, answer: boolean): Promise<{ invite: SipRequest; toTag: string }> => {
    const got = await c.waitFor(isRequest('INVITE'), 'the INVITE on the WebSocket connection', 10_000, from);
    const invite = got.msg as SipRequest;
    // Request-URI: bob's registered Contact; top Via and Record-Route: instance B's WebSocket
    // listener (flow token in Record-Route); its own Path entry was taken off as Route.
    assert.equal(invite.requestUri.raw, `sip:bob@${c.host};transport=ws`, got.text);
    assert.equal(invite.via.length, 1, got.text);
    assert.match(invite.topVia.raw, new RegExp(`^SIP/2\\.0/WS 127\\.0\\.0\\.1:${portB()};branch=z9hG4bK-sn1\\.`), got.text);
    const rr = headerLines(got.text, 'Record-Route');
    assert.equal(rr.length, 1, got.text);
    assert.match(rr[0] ?? '', new RegExp(`^<sip:127\\.0\\.0\\.1:${portB()};transport=ws;lr;sn-flow=`), got.text);
    assert.equal(invite.hasHeader('Route'), false, got.text);
    assert.match(invite.contacts[0]?.uri.raw ?? '', new RegExp(`@127\\.0\\.0\\.1:${portB()};transport=ws$`), got.text);
    // SIPp's offer relayed unchanged.
    const offer = Buffer.from(invite.body).toString('utf8');
    assert.match(offer, /^o=sipp /m, offer);
    assert.match(offer, /^m=audio \d+ RTP\/AVP 0/m, offer);
    const toTag = 'wsbob1';
    respondWs(c, invite, 180, { toTag, user: 'bob' });
    if (answer) respondWs(c, invite, 200, { toTag, user: 'bob', sdp: WS_SDP });
    return { invite, toTag };
  };

  /** What both sides must show for one completed call: SDP each way, every leg message through the right instance. */
  const assertRelayed = async (invite: SipRequest, inboundCallId: string): Promise<void> => {
    await until(() => sentBy(a, inboundCallId).some((m) => m.startsWith('SIP/2.0 200 ') && m.includes(' INVITE\r\n')), 'the 200 to the caller on A');
    const ok = sentBy(a, inboundCallId).find((m) => m.startsWith('SIP/2.0 200 ') && m.includes(' INVITE\r\n')) ?? '';
    assert.match(ok, /^m=audio 47000 RTP\/AVP 0\r$/m, 'the 200 to the caller carries the WebSocket callee\'s SDP');
    assert.match(ok, /^o=wsbob /m, ok);
    // The B leg lives on instance B only: nothing of it left through A, and the A leg not through B.
    const legOnB = sentBy(b, invite.callId).map((m) => m.split('\r\n')[0]);
    assert.ok(legOnB.includes(`INVITE sip:bob@${bob?.host ?? ''};transport=ws SIP/2.0`), legOnB.join('\n'));
    assert.deepEqual(sentBy(a, invite.callId), []);
    assert.deepEqual(sentBy(b, inboundCallId), []);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sipnats-bridge-ws-'));
    const users = ['bob', 'carol'].map((username) => ({ username, realm: REALM, password: PASSWORD }));
    writeFileSync(join(dir, 'users.json'), JSON.stringify({ users }));
    nats = await startNatsServer();
    [a, b] = await Promise.all([
      startTransport({ natsUrl: nats.url, instance: 'tr-ws-a', transports: ['udp'] }),
      startTransport({ natsUrl: nats.url, instance: 'tr-ws-b', transports: ['ws'] }),
    ]);
    ua = await startTheUa();
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const callSub = conn.subscribe(subjects().evtCallAll());
    void (async () => {
      for await (const m of callSub) {
        const r = decodeJson(CallEvent, m.data);
        if (r.ok && events.push(r.value) > 1000) events.splice(0, 500);
      }
    })();
    const regSub = conn.subscribe(subjects().evtRegAll());
    void (async () => {
      for await (const m of regSub) {
        const r = decodeJson(RegEvent, m.data);
        if (r.ok && regEvents.push(r.value) > 1000) regEvents.splice(0, 500);
      }
    })();
    const outSub = conn.subscribe(subjects().out(b?.instance ?? ''));
    void (async () => {
      for await (const m of outSub) {
        const r = decodeJson(OutMessage, m.data);
        if (r.ok && toB.push(Buffer.from(fromBase64(r.value.raw)).toString('utf8')) > 2000) toB.splice(0, 1000);
      }
    })();
    const rawSub = conn.subscribe(subjects().rawOutAll());
    void (async () => {
      for await (const m of rawSub) if (raw.push({ subject: m.subject, text: Buffer.from(m.data).toString('utf8') }) > 2000) raw.splice(0, 1000);
    })();
    await conn.flush();
  });

  after(async () => {
    await bob?.close();
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await Promise.all([a?.stop('SIGTERM'), b?.stop('SIGTERM')]);
    await nats?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`${logs()}\n`);
  });

  it('bob registers over WebSocket on instance B with digest authentication (401, then 200 with his binding)', async () => {
    bob = await connectWsSip(`ws://127.0.0.1:${portB()}`);
    const ok = await registerWs(bob, { aor: aor(), user: 'bob', password: PASSWORD });
    assert.ok(ok.contacts.some((c) => c.uri.raw === `sip:bob@${bob?.host ?? ''};transport=ws`), ok.getHeaders('Contact').join(', '));
    assert.deepEqual(bob.garbage, []);
  });

  it('SIPp on A calls bob: INVITE on his WebSocket via B, 180/200 with SDP relayed, ACK reaches him, the caller\'s BYE reaches him', async () => {
    const c = bob;
    assert.ok(c !== undefined, 'bob registered');
    const from = c.received.length;
    const run = caller('ua-call.xml', await freePort());
    const { invite } = await takeInvite(c, from, true);
    await c.waitFor((m) => isRequest('ACK', invite.callId)(m) && m.msg.cseq.seq === 1, 'the ACK for the 200', 10_000, from);
    const bye = await c.waitFor(isRequest('BYE', invite.callId), 'the caller\'s BYE', 10_000, from);
    respondWs(c, bye.msg as SipRequest, 200);
    const r = await run.done;
    assert.equal(r.code, 0, explain(r));

    const ack = c.received.slice(from).find((m) => isRequest('ACK', invite.callId)(m))?.msg as SipRequest;
    assert.equal(ack.requestUri.raw, `sip:bob@${c.host};transport=ws`, 'the ACK goes to bob\'s Contact from the 200');
    assert.match(ack.topVia.raw, new RegExp(`^SIP/2\\.0/WS 127\\.0\\.0\\.1:${portB()};`));
    assert.equal((bye.msg as SipRequest).to.tag, 'wsbob1');
    const inbound = events.find((e) => e.direction === 'inbound' && e.event === 'offer' && e.to.uri.includes('bob'));
    assert.ok(inbound !== undefined, 'the inbound call was offered');
    await assertRelayed(invite, inbound.sipCallId);
    await until(() => events.some((e) => e.call === inbound.call && e.event === 'ended') && events.some((e) => e.call === `${inbound.call}-b1` && e.event === 'ended'), 'both legs ended');
    assert.deepEqual(c.garbage, []);
  });

  it('bob hangs up: his BYE on the WebSocket reaches SIPp on A, and the 200 comes back to him', async () => {
    const c = bob;
    assert.ok(c !== undefined, 'bob registered');
    const from = c.received.length;
    const offersBefore = events.filter((e) => e.direction === 'inbound' && e.event === 'offer').length;
    const run = caller('uac-call-wait-bye.xml', await freePort());
    const { invite, toTag } = await takeInvite(c, from, true);
    await c.waitFor(isRequest('ACK', invite.callId), 'the ACK for the 200', 10_000, from);
    const dialog = acceptedDialog(invite, toTag);
    const cseq = sendInDialog(c, dialog, 'BYE');
    const ok = await c.waitFor((m) => isResponse('BYE', 200, invite.callId)(m), 'the 200 to bob\'s BYE', 10_000, from);
    assert.equal(`${ok.msg.cseq.seq} ${ok.msg.cseq.method}`, cseq);
    const r = await run.done;
    assert.equal(r.code, 0, explain(r));

    const inbound = events.filter((e) => e.direction === 'inbound' && e.event === 'offer')[offersBefore];
    assert.ok(inbound !== undefined, 'the second inbound call was offered');
    await assertRelayed(invite, inbound.sipCallId);
    // SIPp received the BYE from instance A (its transport), in the caller's dialog.
    await until(() => sentBy(a, inbound.sipCallId).some((m) => m.startsWith('BYE ')), 'the BYE to the caller on A');
    assert.deepEqual(c.garbage, []);
  });

  it("the caller's CANCEL while bob rings reaches his WebSocket on the INVITE's branch; his 487 reaches the caller and B ACKs it", async () => {
    const c = bob;
    assert.ok(c !== undefined, 'bob registered');
    const from = c.received.length;
    const run = caller('ua-call-cancel.xml', await freePort());
    const { invite, toTag } = await takeInvite(c, from, false);
    const got = await c.waitFor(isRequest('CANCEL', invite.callId), 'the CANCEL', 10_000, from);
    const cancel = got.msg as SipRequest;
    assert.equal(cancel.topVia.branch, invite.topVia.branch, got.text);
    assert.equal(cancel.requestUri.raw, invite.requestUri.raw, got.text);
    assert.equal(cancel.cseq.seq, invite.cseq.seq, got.text);
    respondWs(c, cancel, 200);
    respondWs(c, invite, 487, { toTag });
    const ack = await c.waitFor(isRequest('ACK', invite.callId), 'the ACK for the 487', 10_000, from);
    // §17.1.1.3: the transaction's own ACK, on the INVITE's branch, To with our tag.
    assert.equal((ack.msg as SipRequest).topVia.branch, invite.topVia.branch, ack.text);
    assert.equal((ack.msg as SipRequest).to.tag, toTag, ack.text);
    const r = await run.done;
    assert.equal(r.code, 0, explain(r));
    assert.ok(!c.received.slice(from).some((m) => m.msg.kind === 'request' && m.msg.method === 'BYE'), 'no BYE after a CANCEL');
  });

  it('a second, browser-style registration (RFC 5626 reg-id and +sip.instance, Supported: path, outbound): both connections ring, the one that answers gets the call, the other CANCEL', async () => {
    const c = await connectWsSip(`ws://127.0.0.1:${portB()}`);
    try {
      const ok = await registerWs(c, { aor: aor(), user: 'bob', password: PASSWORD, outbound: { instance: '<urn:uuid:6a1f27e4-43a5-4dc8-8a7c-2f0e6d4e8b11>', regId: 1 } });
      assert.ok(ok.contacts.length >= 1, ok.getHeaders('Contact').join(', '));
      // The first connection is still registered too: both ring (parallel forking); the new one answers.
      const first = bob;
      assert.ok(first !== undefined);
      const fromFirst = first.received.length;
      const from = c.received.length;
      const run = caller('ua-call.xml', await freePort());
      const [{ invite }, other] = await Promise.all([takeInvite(c, from, true), first.waitFor(isRequest('INVITE'), 'the INVITE on the first connection', 10_000, fromFirst)]);
      respondWs(first, other.msg as SipRequest, 180, { toTag: 'wsbob2', user: 'bob' });
      const cancel = await first.waitFor(isRequest('CANCEL', other.msg.callId), 'the CANCEL of the losing branch', 10_000, fromFirst);
      respondWs(first, cancel.msg as SipRequest, 200);
      respondWs(first, other.msg as SipRequest, 487, { toTag: 'wsbob2' });
      await c.waitFor(isRequest('ACK', invite.callId), 'the ACK for the 200', 10_000, from);
      const bye = await c.waitFor(isRequest('BYE', invite.callId), "the caller's BYE", 10_000, from);
      respondWs(c, bye.msg as SipRequest, 200);
      const r = await run.done;
      assert.equal(r.code, 0, explain(r));
      assert.notEqual(invite.callId, other.msg.callId, 'each branch is its own leg');
    } finally {
      await c.close();
    }
    // B announced the closed connection; the ua removed the binding bound to it, and only that one.
    const gone = await regEvent((e) => e.event === 'unregistered' && e.contact === `sip:bob@${c.host};transport=ws`, 'the browser binding removed');
    assert.equal(gone.reason, 'flow closed (peer)');
    assert.equal(gone.aor, aor());
    assert.equal(gone.flow?.instance, b?.instance);
    assert.deepEqual(await bindingsOf(`ws://127.0.0.1:${portB()}`, { aor: aor(), user: 'bob', password: PASSWORD }), [`sip:bob@${bob?.host ?? ''};transport=ws`]);
  });

  it('bob loses his connection and reconnects with the same Contact: the new connection is called, and only it', async () => {
    const old = bob;
    assert.ok(old !== undefined, 'bob registered');
    await old.close();
    const c = await connectWsSip(`ws://127.0.0.1:${portB()}`, { host: old.host });
    bob = c;
    await registerWs(c, { aor: aor(), user: 'bob', password: PASSWORD });
    const offersBefore = events.filter((e) => e.direction === 'inbound' && e.event === 'offer').length;
    const run = caller('ua-call.xml', await freePort());
    const { invite } = await takeInvite(c, 0, true);
    await c.waitFor(isRequest('ACK', invite.callId), 'the ACK for the 200', 10_000);
    const bye = await c.waitFor(isRequest('BYE', invite.callId), "the caller's BYE", 10_000);
    respondWs(c, bye.msg as SipRequest, 200);
    const r = await run.done;
    assert.equal(r.code, 0, explain(r));
    const inbound = events.filter((e) => e.direction === 'inbound' && e.event === 'offer')[offersBefore];
    assert.ok(inbound !== undefined, 'the inbound call was offered');
    await assertRelayed(invite, inbound.sipCallId);
    // The browser connection of the previous test left the registrar when it closed: one leg, no 430.
    const legs = events.filter((e) => e.call.startsWith(`${inbound.call}-b`));
    assert.ok(legs.every((e) => e.call === `${inbound.call}-b1` && e.status !== 430), legs.map((e) => `${e.call} ${e.event} ${e.status ?? ''}`).join('\n'));
  });

  it('carol closes her only WebSocket connection: her binding leaves the registrar (unregistered, flow closed) and a call gets 480 without transport B being asked', async () => {
    const url = `ws://127.0.0.1:${portB()}`;
    const carol = { aor: `sip:carol@127.0.0.1:${portA()}`, user: 'carol', password: PASSWORD };
    const c = await connectWsSip(url);
    await registerWs(c, carol);
    const contact = `sip:carol@${c.host};transport=ws`;
    assert.deepEqual(await bindingsOf(url, carol), [contact]);
    const regFrom = regEvents.length;
    await c.close();
    const gone = await regEvent((e) => e.event === 'unregistered' && e.contact === contact, "carol's binding removed", regFrom);
    assert.equal(gone.aor, carol.aor);
    assert.equal(gone.reason, 'flow closed (peer)');
    assert.equal(gone.expires, 0);
    assert.deepEqual(await bindingsOf(url, carol), [], 'a REGISTER query lists no binding');

    const offers = events.filter((e) => e.direction === 'inbound' && e.event === 'offer').length;
    const asked = toB.length;
    const run = startSipp({ scenario: 'ua-call-noanswer.xml', remote: `127.0.0.1:${portA()}`, localPort: await freePort(), timeoutMs: 15_000, args: ['-s', 'carol', '-recv_timeout', '8000'] });
    const r = await run.done;
    assert.equal(r.code, 0, explain(r));
    const offer = events.filter((e) => e.direction === 'inbound' && e.event === 'offer')[offers];
    assert.ok(offer !== undefined && offer.to.uri.includes('carol'), 'the call to carol was offered');
    await until(() => sentBy(a, offer.sipCallId).some((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m)), 'the raw copy of the final response on A');
    const finals = sentBy(a, offer.sipCallId).filter((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m)).map((m) => m.split('\r\n')[0]);
    assert.deepEqual(finals, ['SIP/2.0 480 Temporarily Unavailable'], 'a known user who is not registered: 480');
    assert.deepEqual(events.filter((e) => e.call.startsWith(`${offer.call}-b`)), [], 'no leg was started');
    assert.deepEqual(toB.slice(asked).filter((m) => m.startsWith('INVITE ') && m.includes('carol')), [], 'transport B was never asked for the dead flow');
  });

  it('the close is never handled (the ua was down when carol\'s connection closed): the first call gets 430 from B, which removes the binding; the caller gets 480 (RFC 5626 §11.5) and the next call no leg', async () => {
    const url = `ws://127.0.0.1:${portB()}`;
    const carol = { aor: `sip:carol@127.0.0.1:${portA()}`, user: 'carol', password: PASSWORD };
    const c = await connectWsSip(url);
    await registerWs(c, carol);
    const contact = `sip:carol@${c.host};transport=ws`;
    await ua?.stop('SIGTERM');
    await c.close(); // B announces it to nobody: core NATS drops it
    ua = await startTheUa();
    assert.deepEqual(await bindingsOf(url, carol), [contact], 'the binding outlived its connection');

    const call = async (): Promise<{ offer: CallEvent; finals: string[] }> => {
      const offers = events.filter((e) => e.direction === 'inbound' && e.event === 'offer').length;
      const run = startSipp({ scenario: 'ua-call-noanswer.xml', remote: `127.0.0.1:${portA()}`, localPort: await freePort(), timeoutMs: 15_000, args: ['-s', 'carol', '-recv_timeout', '8000'] });
      const r = await run.done;
      assert.equal(r.code, 0, explain(r));
      const offer = events.filter((e) => e.direction === 'inbound' && e.event === 'offer')[offers];
      assert.ok(offer !== undefined, 'the call was offered');
      await until(() => sentBy(a, offer.sipCallId).some((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m)), 'the raw copy of the final response on A');
      return { offer, finals: sentBy(a, offer.sipCallId).filter((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m)).map((m) => m.split('\r\n')[0] ?? '') };
    };
    const regFrom = regEvents.length;
    const askedFirst = toB.length;
    const first = await call();
    assert.equal(toB.slice(askedFirst).filter((m) => m.startsWith('INVITE ') && m.includes('carol')).length, 1, 'B was asked once, for the dead flow');
    assert.deepEqual(first.finals, ['SIP/2.0 480 Temporarily Unavailable'], 'not the 430 meant for the proxy');
    await until(() => events.some((e) => e.call === `${first.offer.call}-b1` && e.event === 'failed' && e.status === 430), 'the leg failed with 430');
    const gone = await regEvent((e) => e.event === 'unregistered' && e.contact === contact, 'the binding removed on 430', regFrom);
    assert.equal(gone.reason, 'flow failed (430)');
    assert.deepEqual(await bindingsOf(url, carol), []);

    const asked = toB.length;
    const second = await call();
    assert.deepEqual(second.finals, ['SIP/2.0 480 Temporarily Unavailable']);
    assert.deepEqual(events.filter((e) => e.call.startsWith(`${second.offer.call}-b`)), [], 'no leg the second time');
    assert.deepEqual(toB.slice(asked).filter((m) => m.startsWith('INVITE ') && m.includes('carol')), []);
  });
});
