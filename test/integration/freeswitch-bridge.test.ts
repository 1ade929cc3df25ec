/**
 * FreeSWITCH in the call path through mod_sipnats in bridge mode (issue 6): a SIPp caller →
 * transport → ua (offer) → mod_sipnats, which takes the offer from its queue group and commands
 * `bridge` to its own sofia profile with `X-Sipnats-Call: <call>` → the ua's B2BUA sends that INVITE
 * through the transport to FreeSWITCH → the XML dialplan answers it (echo, or a tone then hangup).
 * Everything is real: nats-server, the transport and ua processes, SIPp and FreeSWITCH (config tree
 * generated here: a sofia profile on a free loopback port, a dialplan context, mod_sipnats pointed
 * at the private nats-server). FreeSWITCH's channel events arrive on NATS as ChannelEvents tied to
 * the sipnats call id, and the module sends no call commands besides the bridge.
 *
 * Skipped with a clear message when `pkg-config freeswitch` does not answer (FreeSWITCH is not
 * packaged for Debian).
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, ChannelEvent, decodeJson, subjects } from '@sipnats/contracts';
import { findFreeswitch, NO_FREESWITCH, startFreeswitch, until, type FreeswitchProcess } from '../support/freeswitch.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp, type SippResult } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const S = subjects();
const NODE = 'fs-bridge';

/** The sofia profile the ua calls, and the dialplan behind it. */
function sofiaConf(port: number): string {
  return `    <configuration name="sofia.conf" description="sofia">
      <global_settings><param name="log-level" value="0"/></global_settings>
      <profiles>
        <profile name="sipnats">
          <settings>
            <param name="sip-ip" value="127.0.0.1"/>
            <param name="rtp-ip" value="127.0.0.1"/>
            <param name="sip-port" value="${port}"/>
            <param name="context" value="sipnats"/>
            <param name="dialplan" value="XML"/>
            <param name="auth-calls" value="false"/>
            <param name="inbound-codec-prefs" value="PCMU,PCMA"/>
            <param name="outbound-codec-prefs" value="PCMU,PCMA"/>
            <param name="manage-presence" value="false"/>
            <param name="rtp-timer-name" value="soft"/>
            <param name="liberal-dtmf" value="true"/>
            <param name="apply-inbound-acl" value="loopback.auto"/>
          </settings>
        </profile>
      </profiles>
    </configuration>`;
}

const DIALPLAN = `    <context name="sipnats">
      <extension name="echo">
        <condition field="destination_number" expression="^echo$">
          <action application="answer"/>
          <action application="echo"/>
        </condition>
      </extension>
      <extension name="dtmf">
        <condition field="destination_number" expression="^dtmf$">
          <action application="ring_ready"/>
          <action application="answer"/>
          <action application="park"/>
        </condition>
      </extension>
      <extension name="tone">
        <condition field="destination_number" expression="^tone$">
          <action application="answer"/>
          <action application="playback" data="tone_stream://%(200,100,440);loops=3"/>
          <action application="hangup" data="NORMAL_CLEARING"/>
        </condition>
      </extension>
    </context>`;

describe('FreeSWITCH in the call path: mod_sipnats bridge mode, SIPp → transport → ua → FreeSWITCH dialplan', function () {
  this.timeout(90_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let fs: FreeswitchProcess | undefined;
  let nc: NatsConnection | undefined;
  const callEvents: CallEvent[] = [];
  const channelEvents: ChannelEvent[] = [];
  const commands: Array<{ subject: string; call: string }> = [];
  /** Messages on the channel event subjects that break the ChannelEvent contract. */
  const broken: string[] = [];

  const logs = (): string =>
    `--- ua ---\n${(ua?.logs ?? []).slice(-40).join('\n')}\n--- transport ---\n${(transport?.logs ?? []).slice(-20).join('\n')}\n` +
    `--- freeswitch ---\n${fs?.logTail(40) ?? ''}\n--- call events ---\n${callEvents.map((e) => `${e.call} ${e.event} ${e.status ?? ''} ${e.cause ?? ''}`).join('\n')}\n` +
    `--- channel events ---\n${channelEvents.map((e) => `${e.call} ${e.event} ${e.uuid} ${e.cause ?? ''}`).join('\n')}`;
  const explain = (r: SippResult): string => `SIPp exit ${String(r.code)}\n${r.output.slice(-1500)}\n${logs()}`;
  const api = async (cmd: string): Promise<string> => {
    assert.ok(fs);
    return fs.api(cmd);
  };
  const offerTo = (user: string, since: number): CallEvent | undefined =>
    callEvents.slice(since).find((e) => e.event === 'offer' && e.direction === 'inbound' && e.to.uri.startsWith(`sip:${user}@`));
  const channelOf = (call: string): ChannelEvent[] => channelEvents.filter((e) => e.call === call);
  const caller = async (scenario: string, user: string, args: readonly string[] = []): Promise<SippResult> =>
    runSipp({ scenario, remote: `127.0.0.1:${transport?.ports['udp'] ?? 0}`, localPort: await freePort(), timeoutMs: 20_000, args: ['-s', user, '-recv_timeout', '10000', ...args] });

  before(async function () {
    const install = findFreeswitch();
    if (install === undefined) {
      console.log(`      ${NO_FREESWITCH}`);
      this.skip();
    }
    nats = await startNatsServer();
    const sofiaPort = await freePort();
    fs = await startFreeswitch({
      install,
      modules: ['mod_sofia', 'mod_dialplan_xml', 'mod_tone_stream'],
      configurations: sofiaConf(sofiaPort),
      dialplan: DIALPLAN,
      sipnats: [
        ['servers', nats.url],
        ['connection-name', 'freeswitch-bridge-test'],
        ['node-id', NODE],
        ['queue-group', 'freeswitch'],
        ['offer-mode', 'bridge'],
        ['bridge-target', `sip:\${to_user}@127.0.0.1:${sofiaPort}`],
        ['bridge-timeout', '15'],
      ],
    });
    await until(async () => /^connected: yes$/m.test(await api('sipnats status')), 15_000, () => `mod_sipnats connected\n${fs?.logTail() ?? ''}`);
    await until(async () => /sipnats\s+profile\s+\S+\s+RUNNING/.test(await api('sofia status')), 15_000, () => `the sofia profile\n${fs?.logTail() ?? ''}`);
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-fs', transports: ['udp'] });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-fs', env: { SIPNATS_AUTH_REQUIRED: 'false' } });
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const watch = (subject: string, onMessage: (subject: string, data: Uint8Array) => void): void => {
      const sub = conn.subscribe(subject);
      void (async () => {
        for await (const m of sub) onMessage(m.subject, m.data);
      })();
    };
    watch(S.evtCallAll(), (_, data) => {
      const r = decodeJson(CallEvent, data);
      if (r.ok) callEvents.push(r.value);
    });
    watch(S.evtChannelAll(), (_, data) => {
      const r = decodeJson(ChannelEvent, data);
      if (r.ok) channelEvents.push(r.value);
      else broken.push(`${Buffer.from(data).toString('utf8')} (${r.errors.join('; ')})`);
    });
    watch(S.cmdCallAll(), (subject, data) => {
      const body = JSON.parse(Buffer.from(data).toString('utf8')) as { call?: unknown };
      commands.push({ subject, call: String(body.call) });
    });
    await conn.flush();
  });

  afterEach(() => {
    assert.deepEqual(broken, [], 'every message on <p>.evt.channel.* is a valid ChannelEvent');
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await fs?.stop();
    await nats?.dispose();
  });

  it('the caller hangs up: FreeSWITCH answers by its dialplan (echo) with SDP, the BYE ends its channel with NORMAL_CLEARING', async () => {
    const since = callEvents.length;
    const run = caller('uac-call-pause.xml', 'echo', ['-d', '3000']);
    // While the call is up: one FreeSWITCH channel, running echo, tied to the offered call.
    await until(() => offerTo('echo', since) !== undefined, 15_000, () => `the offer\n${logs()}`);
    const call = offerTo('echo', since)?.call ?? '';
    await until(() => channelOf(call).some((e) => e.event === 'answer'), 15_000, () => `the answer channel event\n${logs()}`);
    const uuid = channelOf(call)[0]?.uuid ?? '';
    assert.equal((await api(`uuid_getvar ${uuid} sip_h_X-Sipnats-Call`)).trim(), call);
    assert.match(await api(`uuid_getvar ${uuid} current_application`), /^echo\s*$/);

    const r = await run;
    assert.equal(r.code, 0, explain(r));
    await until(() => channelOf(call).some((e) => e.event === 'hangup'), 10_000, () => `the hangup channel event\n${logs()}`);
    const evs = channelOf(call);
    assert.deepEqual(evs.map((e) => e.event), ['create', 'answer', 'hangup'], logs());
    for (const e of evs) {
      assert.equal(e.uuid, uuid);
      assert.equal(e.node, NODE);
      assert.equal(e.direction, 'inbound');
    }
    assert.equal(evs[2]?.cause, 'NORMAL_CLEARING');
    // The ua's B2BUA did the signalling: the module sent the bridge and no other command.
    assert.deepEqual(commands.filter((c) => c.call === call).map((c) => c.subject), [S.cmdCall('bridge')]);
    await until(() => callEvents.some((e) => e.call === call && e.event === 'ended'), 10_000, 'the inbound call to end');
    assert.ok(callEvents.some((e) => e.call === `${call}-b1` && e.event === 'answered'), logs());
    assert.match(await api('sipnats status'), /^bridged: [1-9]/m);
    await until(async () => (await api('show channels count')).includes('0 total.'), 10_000, 'no channel left in FreeSWITCH');
  });

  it('the dialplan hangs up first (tone, then hangup): the BYE reaches the caller, the channel ends with NORMAL_CLEARING', async () => {
    const since = callEvents.length;
    const r = await caller('uac-call-remote-bye.xml', 'tone');
    assert.equal(r.code, 0, explain(r));
    const call = offerTo('tone', since)?.call ?? '';
    assert.notEqual(call, '', logs());
    await until(() => channelOf(call).some((e) => e.event === 'hangup'), 10_000, () => `the hangup channel event\n${logs()}`);
    const evs = channelOf(call);
    assert.deepEqual(evs.map((e) => e.event), ['create', 'answer', 'hangup'], logs());
    assert.equal(evs[2]?.cause, 'NORMAL_CLEARING');
    assert.deepEqual(commands.filter((c) => c.call === call).map((c) => c.subject), [S.cmdCall('bridge')]);
    await until(() => callEvents.some((e) => e.call === call && e.event === 'ended'), 10_000, 'the inbound call to end');
  });

  it("ringing, then the caller's DTMF INFO: FreeSWITCH's progress and dtmf channel events carry the call id", async () => {
    const since = callEvents.length;
    const r = await caller('uac-call-info.xml', 'dtmf');
    assert.equal(r.code, 0, explain(r));
    const call = offerTo('dtmf', since)?.call ?? '';
    assert.notEqual(call, '', logs());
    await until(() => channelOf(call).some((e) => e.event === 'hangup'), 10_000, () => `the hangup channel event\n${logs()}`);
    const evs = channelOf(call);
    assert.deepEqual(evs.map((e) => e.event), ['create', 'progress', 'answer', 'dtmf', 'hangup'], logs());
    assert.equal(evs[3]?.dtmf?.digit, '5');
    assert.equal(evs[4]?.cause, 'NORMAL_CLEARING');
    assert.deepEqual(commands.filter((c) => c.call === call).map((c) => c.subject), [S.cmdCall('bridge')]);
  });

  it('a number the dialplan does not know: FreeSWITCH refuses it, the caller gets 404, the channel ends with NO_ROUTE_DESTINATION', async () => {
    const since = callEvents.length;
    const r = await caller('uac-call-404.xml', 'nobody');
    assert.equal(r.code, 0, explain(r));
    const call = offerTo('nobody', since)?.call ?? '';
    assert.notEqual(call, '', logs());
    await until(() => channelOf(call).some((e) => e.event === 'hangup'), 10_000, () => `the hangup channel event\n${logs()}`);
    const evs = channelOf(call);
    assert.deepEqual(evs.map((e) => e.event), ['create', 'hangup'], logs());
    assert.equal(evs[1]?.cause, 'NO_ROUTE_DESTINATION');
  });
});
