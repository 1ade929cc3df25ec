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
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, decodeJson } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp, startSipp, type SippResult, type SippRun } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

describe('ua bridge: offers refused or retried across the bridge (SIPp on both sides)', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  const events: CallEvent[] = [];

  const logs = (): string => `--- ua ---\n${(ua?.logs ?? []).slice(-40).join('\n')}\n--- transport ---\n${(transport?.logs ?? []).slice(-30).join('\n')}`;
  const explain = (r: SippResult, who: string): string =>
    `${who}: SIPp exit ${String(r.code)}\n${r.output.slice(-1500)}\n${logs()}\n--- events ---\n${events.map((e) => `${e.call} ${e.event} ${e.status ?? ''} ${e.cause ?? ''}`).join('\n')}`;
  const remote = (): string => `127.0.0.1:${transport?.ports['udp'] ?? 0}`;

  /** A SIPp UAS registered as `user` from the port it then listens on. */
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
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-offers', transports: ['udp'] });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-offers', env: { SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_SWEEP_INTERVAL: '200ms' } });
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const sub = conn.subscribe('sip.evt.call.*');
    void (async () => {
      for await (const m of sub) {
        const r = decodeJson(CallEvent, m.data);
        if (!r.ok) continue;
        events.push(r.value);
        if (r.value.event === 'offer' && r.value.direction === 'inbound') {
          await conn.request('sip.cmd.call.bridge', JSON.stringify({ v: 1, action: 'bridge', call: r.value.call }), { timeout: 5000 }).catch(() => undefined);
        }
      }
    })();
    await conn.flush();
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
  });

  it("the callee's 488 to the relayed re-INVITE reaches the caller; the session stays the first one agreed (RFC 3261 §14)", async () => {
    const ida = await callee('ida', 'uas-branch-reinvite-refuse.xml');
    const r = await caller('uac-call-reinvite-refused.xml', 'ida');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const c = await ida.done;
    assert.equal(c.code, 0, explain(c, 'callee'));
    const inbound = events.find((e) => e.direction === 'inbound' && e.event === 'offer' && e.to.uri.includes('ida'));
    assert.ok(inbound !== undefined);
    const of = (call: string): CallEvent[] => events.filter((e) => e.call === call);
    const deadline = Date.now() + 5000;
    while (!of(inbound.call).some((e) => e.event === 'ended') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    // The refused offer is reported on the leg as an update with its status (not `failed`: the call
    // goes on); both sides end only with the caller's BYE.
    const leg = of(`${inbound.call}-b1`).map((e) => `${e.event}${e.status === undefined ? '' : ` ${e.status}`}`);
    assert.deepEqual(leg.filter((e) => e === 'updated 488' || e.startsWith('failed') || e.startsWith('ended')), ['updated 488', 'ended'], leg.join(', '));
    const ended = of(inbound.call).filter((e) => e.event === 'ended');
    assert.deepEqual(ended.map((e) => e.cause), ['NORMAL_CLEARING'], explain(r, 'caller'));
  });

  it("a callee's 422 gets the leg's INVITE again with Session-Expires and Min-SE raised to its Min-SE (RFC 4028 §7.3)", async () => {
    const jo = await callee('jo', 'uas-branch-422.xml');
    const r = await caller('ua-call.xml', 'jo');
    assert.equal(r.code, 0, explain(r, 'caller'));
    const c = await jo.done;
    assert.equal(c.code, 0, explain(c, 'callee'));
  });
});
