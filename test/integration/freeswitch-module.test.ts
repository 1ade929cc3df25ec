/**
 * mod_sipnats inside a real FreeSWITCH: builds the module against the installed FreeSWITCH
 * (`make -C packages/fs-shim module`), starts a throwaway FreeSWITCH with a config tree generated
 * here (console, logfile, event socket on a free loopback port, commands, dptools, loopback and
 * mod_sipnats pointed at a private nats-server), and drives it through the event socket:
 * status, publish, a call.offer (originate mode) that originates a channel whose `ring` command
 * and `create` ChannelEvent come back on NATS with the sipnats call id, call.ended hanging it up,
 * reload, unload and load. Bridge mode is freeswitch-bridge.test.ts.
 *
 * The one environment-dependent skip of the suite: FreeSWITCH is not packaged for Debian, so when
 * `pkg-config freeswitch` does not answer the whole suite is skipped with that reason.
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ChannelEvent, isValid } from '@sipnats/contracts';
import { collect, findFreeswitch, NO_FREESWITCH, startFreeswitch, until, type FreeswitchProcess } from '../support/freeswitch.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';

const PREFIX = 'fstest';

function offerEvent(call: string): string {
  return JSON.stringify({
    v: 1,
    event: 'offer',
    call,
    sipCallId: `${call}@127.0.0.1`,
    direction: 'inbound',
    from: { uri: 'sip:alice@127.0.0.1', tag: 'f1' },
    to: { uri: 'sip:1000@127.0.0.1' },
    at: new Date().toISOString(),
    instance: 'tr-test',
    sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n',
  });
}

describe('mod_sipnats in a real FreeSWITCH', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let fs: FreeswitchProcess | undefined;
  let nc: NatsConnection | undefined;

  const api = async (cmd: string): Promise<string> => {
    assert.ok(fs);
    return fs.api(cmd);
  };
  const logTail = (): string => fs?.logTail() ?? '(no log)';

  before(async function () {
    const install = findFreeswitch();
    if (install === undefined) {
      // The suite's one environment-dependent skip: FreeSWITCH is not installed here.
      console.log(`      ${NO_FREESWITCH}`);
      this.skip();
    }
    nats = await startNatsServer();
    fs = await startFreeswitch({
      install,
      modules: ['mod_loopback'],
      sipnats: [
        ['servers', nats.url],
        ['connection-name', 'freeswitch-test'],
        ['prefix', PREFIX],
        ['node-id', 'fs-test'],
        ['queue-group', 'freeswitch'],
        ['dial-string', '{null_enable_auto_answer=true}null/${to_user}'],
        ['offer-application', 'park'],
        ['originate-timeout', '10'],
        ['publish-events', 'CHANNEL_CREATE,CHANNEL_ANSWER,CHANNEL_HANGUP,DTMF'],
      ],
    });
    nc = await connect({ servers: nats.url });
  });

  after(async () => {
    await nc?.close();
    await fs?.stop();
    await nats?.dispose();
  });

  it('loads at start and reports a live NATS connection (sipnats status)', async () => {
    await until(async () => /^connected: yes$/m.test(await api('sipnats status')), 10_000, 'sipnats status connected');
    const status = await api('sipnats status');
    assert.match(status, /^prefix: fstest$/m);
    assert.match(status, /^calls: 0$/m);
    assert.match(await api('version'), /FreeSWITCH Version 1\.10\./);
  });

  it('sipnats publish <subject> <data> arrives on NATS', async () => {
    assert.ok(nc);
    const sub = nc.subscribe('fstest.probe.publish', { max: 1 });
    await nc.flush();
    assert.equal((await api('sipnats publish fstest.probe.publish hello from freeswitch')).trim(), '+OK');
    const it = sub[Symbol.asyncIterator]();
    const got = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('publish did not arrive')), 5000)),
    ]);
    assert.ok(!got.done);
    assert.equal(got.value.string(), 'hello from freeswitch');
  });

  it('call.offer originates a channel whose ring command comes back with the call id; call.ended hangs it up', async () => {
    assert.ok(nc);
    const call = `c-${Date.now().toString(36)}`;
    const cmds = nc.subscribe('fstest.cmd.call.>');
    const got = collect(cmds);
    const chans = nc.subscribe('fstest.evt.channel.>');
    const channelEvents = collect(chans);
    await nc.flush();
    nc.publish('fstest.evt.call.offer', offerEvent(call));

    await until(async () => got.length > 0, 10_000, `a call command on NATS\n${logTail()}`);
    const ring = got[0];
    assert.ok(ring);
    assert.equal(ring.subject, 'fstest.cmd.call.ring');
    assert.deepEqual(ring.body, { v: 1, call, action: 'ring' });
    await until(async () => channelEvents.length > 0, 5000, 'the create channel event');
    const create = channelEvents[0];
    assert.ok(create);
    assert.equal(create.subject, 'fstest.evt.channel.create');
    assert.ok(isValid(ChannelEvent, create.body), JSON.stringify(create.body));
    assert.deepEqual({ ...create.body, uuid: '', at: 0 }, { v: 1, event: 'create', call, node: 'fs-test', uuid: '', direction: 'outbound', at: 0 });

    await until(async () => /^calls: 1$/m.test(await api('sipnats status')), 5000, 'one call in the module');
    await until(async () => (await api('show channels count')).includes('1 total.'), 5000, 'the channel');
    const channels = await api('show channels as json');
    assert.ok(channels.includes('null/1000'), channels);
    assert.match(await api('show channels'), /,park,/);

    nc.publish('fstest.evt.call.ended', JSON.stringify({ ...JSON.parse(offerEvent(call)), event: 'ended', cause: 'NORMAL_CLEARING' }));
    await until(async () => (await api('show channels count')).includes('0 total.'), 10_000, 'the channel to hang up');
    assert.match(await api('sipnats status'), /^calls: 0$/m);
    // A hangup the remote side asked for is not echoed back as a hangup command.
    await nc.flush();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(got.map((m) => m.subject), ['fstest.cmd.call.ring']);
    assert.ok(channelEvents.some((m) => m.subject === 'fstest.evt.channel.hangup' && m.body['call'] === call), JSON.stringify(channelEvents));
    cmds.unsubscribe();
    chans.unsubscribe();
  });

  it('an unknown or malformed event is refused and counted, FreeSWITCH stays up', async () => {
    assert.ok(nc);
    nc.publish('fstest.evt.call.offer', '{"v":1,"event":"offer"');
    nc.publish('fstest.evt.call.offer', JSON.stringify({ v: 99, event: 'offer', call: 'x' }));
    await until(async () => /^refused: [1-9]/m.test(await api('sipnats status')), 5000, 'refused events');
    assert.match(await api('status'), /UP /);
  });

  it('reload, unload and load of mod_sipnats all succeed and FreeSWITCH stays alive', async () => {
    assert.match(await api('reload mod_sipnats'), /\+OK module loaded/);
    await until(async () => /^connected: yes$/m.test(await api('sipnats status')), 10_000, 'connected after reload');
    assert.match(await api('sipnats reload'), /\+OK reloaded/);
    await until(async () => /^connected: yes$/m.test(await api('sipnats status')), 10_000, 'connected after sipnats reload');

    assert.match(await api('unload mod_sipnats'), /\+OK/);
    assert.match(await api('sipnats status'), /-ERR/);
    assert.match(await api('load mod_sipnats'), /\+OK/);
    await until(async () => /^connected: yes$/m.test(await api('sipnats status')), 10_000, 'connected after load');
    assert.match(await api('status'), /UP /);
    assert.equal(fs?.child.exitCode, null, 'FreeSWITCH exited');
  });
});
