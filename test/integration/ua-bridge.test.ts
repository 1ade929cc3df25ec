/**
 * `bridge` end to end (B2BUA): SIPp UAS instances register (test/sipp/uac-register-contact.xml)
 * as alice (two contacts), carol (two contacts) and bob; a SIPp UAC calls them through the real
 * transport; a controller on NATS bridges every `offer`; the ua forks to every contact.
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp, startSipp, type SippResult, type SippRun } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

describe('ua bridge: SIPp caller → transport → ua (B2BUA) → registered SIPp callees', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  const events: CallEvent[] = [];
  const replies: CommandReply[] = [];
  const raw: string[] = [];

  const logs = (): string => `--- ua ---\n${(ua?.logs ?? []).slice(-60).join('\n')}\n--- transport ---\n${(transport?.logs ?? []).slice(-40).join('\n')}`;
  const explain = (r: SippResult, who: string): string =>
    `${who}: SIPp exit ${String(r.code)}\n${r.output.slice(-1500)}\n${logs()}\n--- events ---\n${events.map((e) => `${e.call} ${e.event} ${e.status ?? ""} ${e.cause ?? ""}`).join("\n")}\n--- bridge replies ---\n${JSON.stringify(replies)}`;

  const remote = (): string => `127.0.0.1:${transport?.ports['udp'] ?? 0}`;

  /**
   * A SIPp UAS registered as `user`: the REGISTER is sent from the port the UAS then listens on
   * (the registration's flow and Contact are that address, as for a phone).
   */
  const callee = async (user: string, scenario: string): Promise<SippRun> => {
    const port = await freePort();
    const reg = await runSipp({ scenario: 'uac-register-contact.xml', remote: remote(), localPort: port, timeoutMs: 5000, args: ['-s', user, '-key', 'contact_port', String(port)] });
    assert.equal(reg.code, 0, explain(reg, `register ${user}`));
    const run = startSipp({ scenario, localPort: port, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 200));
    return run;
  };

  const caller = async (scenario: string, user: string): Promise<SippResult> =>
    runSipp({ scenario, remote: remote(), localPort: await freePort(), timeoutMs: 15_000, args: ['-s', user, '-recv_timeout', '8000'] });

  before(async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-br', transports: ['udp'] });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-br', env: { SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_SWEEP_INTERVAL: '200ms' } });
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const sub = conn.subscribe('sip.evt.call.*');
    void (async () => {
      for await (const m of sub) {
        const r = decodeJson(CallEvent, m.data);
        if (!r.ok) continue;
        events.push(r.value);
        if (r.value.event === 'offer' && r.value.direction === 'inbound') {
          const reply = await conn.request('sip.cmd.call.bridge', JSON.stringify({ v: 1, action: 'bridge', call: r.value.call }), { timeout: 5000 }).catch(() => undefined);
          const d = reply === undefined ? undefined : decodeJson(CommandReply, reply.data);
          if (d?.ok === true) replies.push(d.value);
          else replies.push({ v: 1, ok: false, error: d?.ok === false ? d.errors.join('; ') : 'no reply' });
        }
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

  it('alice with two contacts: both ring, one answers, the other gets CANCEL; ACK and BYE pass end to end', async () => {
    const answer = await callee('alice', 'uas-branch-answer.xml');
    const ring = await callee('alice', 'uas-branch-ring.xml');
    const r = await caller('ua-call.xml', 'alice');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const [a, b] = await Promise.all([answer.done, ring.done]);
    assert.equal(a.code, 0, explain(a, 'answering branch'));
    assert.equal(b.code, 0, explain(b, 'ringing branch'));
    assert.ok(replies.every((x) => x.ok), JSON.stringify(replies));
    // The answering branch's SDP reached the caller; both sides ended (caller's BYE propagated).
    const inbound = events.find((e) => e.direction === 'inbound' && e.event === 'offer' && e.to.uri.includes('alice'));
    assert.ok(inbound !== undefined);
    const ofCall = (call: string): string[] => events.filter((e) => e.call === call).map((e) => e.event);
    const deadline = Date.now() + 3000;
    while (!ofCall(inbound.call).includes('ended') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const toCaller = raw.find((m) => m.startsWith('SIP/2.0 200 ') && m.includes(`Call-ID: ${inbound.sipCallId}\r\n`) && m.includes(' INVITE\r\n'));
    assert.match(toCaller ?? '', /m=audio 7100 /, 'the 200 to the caller carries the answering branch SDP');
    assert.ok(ofCall(inbound.call).includes('ended'), ofCall(inbound.call).join(','));
    const legs = [`${inbound.call}-b1`, `${inbound.call}-b2`].map(ofCall);
    assert.ok(legs.some((l) => l.includes('answered') && l.includes('ended')), JSON.stringify(legs));
    assert.ok(legs.some((l) => l.includes('cancelled')), JSON.stringify(legs));
  });

  it("the caller's CANCEL during ringing reaches every branch", async () => {
    const one = await callee('carol', 'uas-branch-ring.xml');
    const two = await callee('carol', 'uas-branch-ring.xml');
    const r = await caller('ua-call-cancel.xml', 'carol');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const [a, b] = await Promise.all([one.done, two.done]);
    assert.equal(a.code, 0, explain(a, 'branch 1'));
    assert.equal(b.code, 0, explain(b, 'branch 2'));
  });

  it("the caller's DTMF INFO reaches the answering callee", async () => {
    const frank = await callee('frank', 'uas-branch-info.xml');
    const r = await caller('uac-call-info.xml', 'frank');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const f = await frank.done;
    assert.equal(f.code, 0, explain(f, 'callee'));
  });

  it("the caller's re-INVITE is relayed: the callee gets the new offer, the caller its answer", async () => {
    const gina = await callee('gina', 'uas-branch-reinvite.xml');
    const r = await caller('uac-call-reinvite-relay.xml', 'gina');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const g = await gina.done;
    assert.equal(g.code, 0, explain(g, 'callee'));
  });

  it("the caller's CANCEL of its relayed re-INVITE gets 487 (RFC 3261 §9.2); the callee's late answer is undone by a re-INVITE with the session that holds", async () => {
    const hank = await callee('hank', 'uas-branch-reinvite-cancelled.xml');
    const r = await caller('uac-call-reinvite-cancel.xml', 'hank');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const h = await hank.done;
    assert.equal(h.code, 0, explain(h, 'callee'));
  });

  it("a busy callee's 486 reaches the caller", async () => {
    const busy = await callee('bob', 'uas-branch-busy.xml');
    const r = await caller('ua-call-busy.xml', 'bob');
    const b = await busy.done;
    assert.equal(b.code, 0, explain(b, 'busy branch'));
    assert.equal(r.code, 0, explain(r, 'caller'));
  });
});
