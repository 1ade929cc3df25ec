/**
 * A ua instance killed mid-bridge: two ua instances share the KV; a SIPp caller is bridged to a
 * registered SIPp callee; once the call is up, the instance that handled the callee's answer is
 * SIGKILLed. A BYE from either side then reaches the surviving instance, which finds both legs in
 * KV and tears both down (the other side gets BYE and answers 200).
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { CallEvent } from '@sipnats/contracts';
import { bridgeEveryOffer } from '../support/bridge-fixture.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp, startSipp, type SippResult, type SippRun } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

describe('ua killed mid-bridge: BYE from either side still tears down both legs', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  const uas = new Map<string, UaProcess>();
  let nc: NatsConnection | undefined;
  const events: CallEvent[] = [];
  let started = 0;

  const remote = (): string => `127.0.0.1:${transport?.ports['udp'] ?? 0}`;
  const logs = (): string => [...uas.values()].map((u) => u.logs.slice(-10).join('\n')).join('\n---\n');
  const explain = (r: SippResult, who: string): string =>
    `${who}: SIPp exit ${String(r.code)}\n${r.output.slice(-1500)}\n${logs()}\n${events.map((e) => `${e.instance} ${e.call} ${e.event}`).join('\n')}`;

  const startInstance = async (): Promise<void> => {
    if (nats === undefined) throw new Error('no nats');
    const id = `ua-kill-${++started}`;
    uas.set(id, await startUa({ natsUrl: nats.url, instance: id, env: { SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_SWEEP_INTERVAL: '200ms' } }));
  };

  const callee = async (user: string, scenario: string): Promise<SippRun> => {
    const port = await freePort();
    const reg = await runSipp({ scenario: 'uac-register-contact.xml', remote: remote(), localPort: port, timeoutMs: 5000, args: ['-s', user, '-key', 'contact_port', String(port)] });
    assert.equal(reg.code, 0, explain(reg, `register ${user}`));
    const run = startSipp({ scenario, localPort: port, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 200));
    return run;
  };

  /** Waits for the bridged call to `user` to be up; kills the ua that handled the callee's answer. */
  const killHandler = async (user: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const inbound = events.find((e) => e.direction === 'inbound' && e.event === 'offer' && e.to.uri.includes(user));
      const confirmed = inbound === undefined ? undefined : events.find((e) => e.call === inbound.call && e.event === 'confirmed');
      const legAnswer = inbound === undefined ? undefined : events.find((e) => e.call.startsWith(`${inbound.call}-b`) && e.event === 'answered');
      if (confirmed !== undefined && legAnswer !== undefined) {
        const victim = uas.get(legAnswer.instance);
        assert.ok(victim !== undefined, `instance ${legAnswer.instance}`);
        await victim.stop('SIGKILL');
        uas.delete(legAnswer.instance);
        return;
      }
      if (Date.now() > deadline) throw new Error(`call to ${user} not up\n${logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  before(async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-kill', transports: ['udp'] });
    await startInstance();
    await startInstance();
    const conn = await connect({ servers: nats.url });
    nc = conn;
    bridgeEveryOffer(conn, events);
    await conn.flush();
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    for (const u of uas.values()) await u.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
  });

  it('the caller hangs up after the kill: the callee gets BYE', async () => {
    const dave = await callee('dave', 'uas-branch-answer.xml');
    const caller = startSipp({ scenario: 'uac-call-long.xml', remote: remote(), localPort: await freePort(), timeoutMs: 15_000, args: ['-s', 'dave', '-recv_timeout', '8000'] });
    await killHandler('dave');
    const [c, d] = await Promise.all([caller.done, dave.done]);
    assert.equal(c.code, 0, explain(c, 'caller'));
    assert.equal(d.code, 0, explain(d, 'callee'));
  });

  it('the callee hangs up after the kill: the caller gets BYE', async () => {
    await startInstance();
    const erin = await callee('erin', 'uas-branch-answer-bye.xml');
    const caller = startSipp({ scenario: 'uac-call-wait-bye.xml', remote: remote(), localPort: await freePort(), timeoutMs: 15_000, args: ['-s', 'erin', '-recv_timeout', '8000'] });
    await killHandler('erin');
    const [c, e] = await Promise.all([caller.done, erin.done]);
    assert.equal(e.code, 0, explain(e, 'callee'));
    assert.equal(c.code, 0, explain(c, 'caller'));
  });
});
