/**
 * RFC 3263 in the ua: `originate` to a trunk named by a domain whose SRV records (dnsmasq on a
 * loopback port) list two SIPp UAS targets. The call goes to the preferred one (priority 10); with
 * that one stopped, the INVITE times out (transport SIP_T1=50ms: Timer B after 3.2 s) or fails,
 * and the call fails over to the other (priority 20).
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson } from '@sipnats/contracts';
import { startDnsmasq, type Dnsmasq } from '../support/dnsmasq.js';
import { startNatsServer, stopProcess, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { startSipp, type SippRun } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const OFFER = 'v=0\r\no=ctl 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

describe('ua originate to an SRV trunk: preferred target, failover when it is down', function () {
  this.timeout(60_000);
  let dns: Dnsmasq | undefined;
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  let primaryPort = 0;
  let backupPort = 0;
  const events: CallEvent[] = [];

  const command = async (action: string, payload: Record<string, unknown>): Promise<CommandReply> => {
    if (nc === undefined) throw new Error('not connected');
    const m = await nc.request(`sip.cmd.call.${action}`, JSON.stringify({ v: 1, action, ...payload }), { timeout: 5000 });
    const r = decodeJson(CommandReply, m.data);
    if (!r.ok) throw new Error(r.errors.join('; '));
    return r.value;
  };
  const waitFor = async (call: string, names: readonly string[], ms = 15_000): Promise<CallEvent> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const ev = events.find((e) => e.call === call && names.includes(e.event));
      if (ev !== undefined) return ev;
      if (Date.now() > deadline) throw new Error(`no ${names.join('/')} for ${call}: ${events.filter((e) => e.call === call).map((e) => e.event).join(',')}\n${(ua?.logs ?? []).slice(-10).join('\n')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const uas = async (port: number): Promise<SippRun> => {
    const run = startSipp({ scenario: 'uas-branch-answer.xml', localPort: port, timeoutMs: 25_000 });
    await new Promise((r) => setTimeout(r, 300));
    return run;
  };
  /** One call to the trunk, answered, then hung up by the controller. */
  const callTrunk = async (call: string): Promise<void> => {
    const reply = await command('originate', { call, from: 'sip:alice@example.com', to: 'sip:bob@trunk.example.test', sdp: OFFER });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    const answered = await waitFor(call, ['answered', 'failed']);
    assert.equal(answered.event, 'answered', JSON.stringify(answered));
    assert.equal((await command('hangup', { call })).ok, true);
    await waitFor(call, ['ended']);
  };

  before(async () => {
    primaryPort = await freePort();
    backupPort = await freePort();
    dns = await startDnsmasq([
      '--host-record=primary.example.test,127.0.0.1',
      '--host-record=backup.example.test,127.0.0.1',
      `--srv-host=_sip._udp.trunk.example.test,backup.example.test,${backupPort},20,0`,
      `--srv-host=_sip._udp.trunk.example.test,primary.example.test,${primaryPort},10,0`,
    ]);
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-srv', transports: ['udp'], env: { SIP_T1: '50ms' } });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-srv', env: { SIPNATS_DNS_SERVERS: `127.0.0.1:${dns.port}`, SIPNATS_AUTH_REQUIRED: 'false' } });
    nc = await connect({ servers: nats.url });
    const sub = nc.subscribe('sip.evt.call.*');
    void (async () => {
      for await (const m of sub) {
        const r = decodeJson(CallEvent, m.data);
        if (r.ok) events.push(r.value);
      }
    })();
    await nc.flush();
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
    if (dns !== undefined) await stopProcess(dns.child);
  });

  it('both targets up: the call goes to the preferred (priority 10) one', async () => {
    const primary = await uas(primaryPort);
    const backup = await uas(backupPort);
    await callTrunk('trunk-1');
    const p = await primary.done;
    assert.equal(p.code, 0, p.output.slice(-1500));
    await stopProcess(backup.child);
    assert.match((await backup.done).output, /Total Calls created\s*\|\s*\|\s*0\b/, 'the backup got no call');
  });

  it('preferred target stopped: the call fails over to the other one', async () => {
    const backup = await uas(backupPort);
    await callTrunk('trunk-2');
    const b = await backup.done;
    assert.equal(b.code, 0, b.output.slice(-1500));
  });
});
