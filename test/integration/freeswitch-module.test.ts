/**
 * mod_sipnats inside a real FreeSWITCH: builds the module against the installed FreeSWITCH
 * (`make -C packages/fs-shim module`), starts a throwaway FreeSWITCH with a config tree generated
 * here (console, logfile, event socket on a free loopback port, commands, dptools, loopback and
 * mod_sipnats pointed at a private nats-server), and drives it through the event socket:
 * status, publish, a call.offer that originates a channel whose `ring` command comes back on NATS
 * with the sipnats call id, call.ended hanging it up, reload, unload and load.
 *
 * The one environment-dependent skip of the suite: FreeSWITCH is not packaged for Debian, so when
 * `pkg-config freeswitch` does not answer the whole suite is skipped with that reason.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as netConnect, type Socket } from 'node:net';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { startNatsServer, stopProcess, waitForTcp, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';

const shimDir = fileURLToPath(new URL('../../packages/fs-shim/', import.meta.url));
const PREFIX = 'fstest';
const ESL_PASSWORD = 'sipnats-test';

/** The FreeSWITCH event socket text protocol, just enough for `auth` and `api` commands. */
class EslClient {
  private buf = Buffer.alloc(0);
  private readonly waiters: Array<(m: { headers: Map<string, string>; body: string }) => void> = [];
  private readonly queued: Array<{ headers: Map<string, string>; body: string }> = [];

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
  }

  static async connect(host: string, port: number, password: string): Promise<EslClient> {
    const sock = netConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const c = new EslClient(sock);
    const hello = await c.next(10_000);
    if (hello.headers.get('Content-Type') !== 'auth/request') throw new Error('event socket: no auth/request');
    sock.write(`auth ${password}\n\n`);
    const reply = await c.next(10_000);
    if (!(reply.headers.get('Reply-Text') ?? '').startsWith('+OK')) throw new Error(`event socket auth: ${reply.headers.get('Reply-Text')}`);
    return c;
  }

  /** Runs an API command; resolves with its output. One command at a time. */
  async api(cmd: string): Promise<string> {
    this.sock.write(`api ${cmd}\n\n`);
    for (;;) {
      const m = await this.next(30_000);
      if (m.headers.get('Content-Type') === 'api/response') return m.body;
    }
  }

  close(): void {
    this.sock.destroy();
  }

  private next(timeoutMs: number): Promise<{ headers: Map<string, string>; body: string }> {
    const ready = this.queued.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('event socket: no reply')), timeoutMs);
      this.waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\n\n');
      if (end < 0) return;
      const headers = new Map<string, string>();
      for (const line of this.buf.subarray(0, end).toString('utf8').split('\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      const len = Number(headers.get('Content-Length') ?? '0');
      if (this.buf.length < end + 2 + len) return;
      const body = this.buf.subarray(end + 2, end + 2 + len).toString('utf8');
      this.buf = this.buf.subarray(end + 2 + len);
      const m = { headers, body };
      const w = this.waiters.shift();
      if (w !== undefined) w(m);
      else this.queued.push(m);
    }
  }
}

function pkgConfig(...args: string[]): string | undefined {
  try {
    return execFileSync('pkg-config', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function configXml(eslPort: number, natsUrl: string): string {
  return `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration" description="sipnats test">
    <configuration name="switch.conf" description="Core">
      <settings>
        <param name="loglevel" value="debug"/>
        <param name="max-sessions" value="50"/>
        <param name="rtp-start-port" value="${40000 + (eslPort % 1000) * 10}"/>
        <param name="rtp-end-port" value="${40009 + (eslPort % 1000) * 10}"/>
      </settings>
    </configuration>
    <configuration name="modules.conf" description="Modules">
      <modules>
        <load module="mod_console"/>
        <load module="mod_logfile"/>
        <load module="mod_event_socket"/>
        <load module="mod_commands"/>
        <load module="mod_dptools"/>
        <load module="mod_loopback"/>
        <load module="mod_sipnats"/>
      </modules>
    </configuration>
    <configuration name="console.conf" description="Console">
      <mappings><map name="all" value="console,debug,info,notice,warning,err,crit,alert"/></mappings>
      <settings><param name="colorize" value="false"/><param name="loglevel" value="info"/></settings>
    </configuration>
    <configuration name="logfile.conf" description="File logging">
      <profiles><profile name="default"><settings><param name="rollover" value="0"/></settings>
        <mappings><map name="all" value="debug,info,notice,warning,err,crit,alert"/></mappings></profile></profiles>
    </configuration>
    <configuration name="event_socket.conf" description="Event socket">
      <settings>
        <param name="listen-ip" value="127.0.0.1"/>
        <param name="listen-port" value="${eslPort}"/>
        <param name="password" value="${ESL_PASSWORD}"/>
      </settings>
    </configuration>
    <configuration name="sipnats.conf" description="sipnats">
      <settings>
        <param name="servers" value="${natsUrl}"/>
        <param name="connection-name" value="freeswitch-test"/>
        <param name="prefix" value="${PREFIX}"/>
        <param name="node-id" value="fs-test"/>
        <param name="queue-group" value="freeswitch"/>
        <param name="dial-string" value="{null_enable_auto_answer=true}null/\${to_user}"/>
        <param name="offer-application" value="park"/>
        <param name="originate-timeout" value="10"/>
        <param name="publish-events" value="CHANNEL_CREATE,CHANNEL_ANSWER,CHANNEL_HANGUP,DTMF"/>
      </settings>
    </configuration>
  </section>
</document>
`;
}

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

/** Collects every message of a subscription (subject and parsed JSON) as it arrives. */
function collect(sub: Subscription): Array<{ subject: string; body: Record<string, unknown> }> {
  const got: Array<{ subject: string; body: Record<string, unknown> }> = [];
  void (async () => {
    for await (const m of sub) got.push({ subject: m.subject, body: m.json<Record<string, unknown>>() });
  })();
  return got;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('mod_sipnats in a real FreeSWITCH', function () {
  this.timeout(60_000);
  let base = '';
  let nats: NatsServer | undefined;
  let fs: ChildProcess | undefined;
  let esl: EslClient | undefined;
  let nc: NatsConnection | undefined;

  const api = async (cmd: string): Promise<string> => {
    assert.ok(esl);
    return esl.api(cmd);
  };
  const logTail = (): string => {
    try {
      return readFileSync(join(base, 'log', 'freeswitch.log'), 'utf8').split('\n').slice(-60).join('\n');
    } catch {
      return '(no log)';
    }
  };

  before(async function () {
    const version = pkgConfig('--modversion', 'freeswitch');
    if (version === undefined) {
      // The suite's one environment-dependent skip: FreeSWITCH is not installed here.
      console.log('      skipped: FreeSWITCH not installed (pkg-config freeswitch does not answer)');
      this.skip();
    }
    const prefix = pkgConfig('--variable=prefix', 'freeswitch') ?? '';
    const modulesDir = pkgConfig('--variable=modulesdir', 'freeswitch') ?? '';
    execFileSync('make', ['-s', '-C', shimDir, 'module'], { stdio: 'inherit' });

    base = mkdtempSync(join(tmpdir(), 'sipnats-fs-'));
    for (const d of ['conf', 'log', 'db', 'run', 'mod', 'temp']) mkdirSync(join(base, d));
    // A private module dir: the installed modules plus the freshly built mod_sipnats.
    for (const f of readdirSync(modulesDir)) if (f.endsWith('.so')) symlinkSync(join(modulesDir, f), join(base, 'mod', f));
    symlinkSync(join(shimDir, 'build', 'mod_sipnats.so'), join(base, 'mod', 'mod_sipnats.so'));

    nats = await startNatsServer();
    const eslPort = await freePort();
    writeFileSync(join(base, 'conf', 'freeswitch.xml'), configXml(eslPort, nats.url));
    fs = spawn(
      join(prefix, 'bin', 'freeswitch'),
      ['-nonat', '-nc', '-nf', '-base', base, '-conf', join(base, 'conf'), '-log', join(base, 'log'), '-db', join(base, 'db'),
        '-run', join(base, 'run'), '-mod', join(base, 'mod'), '-temp', join(base, 'temp')],
      { stdio: 'ignore' },
    );
    await waitForTcp('127.0.0.1', eslPort, 30_000);
    esl = await EslClient.connect('127.0.0.1', eslPort, ESL_PASSWORD);
    nc = await connect({ servers: nats.url });
  });

  after(async () => {
    esl?.close();
    await nc?.close();
    if (fs !== undefined) await stopProcess(fs, 'SIGTERM', 15_000);
    await nats?.dispose();
    if (base !== '') rmSync(base, { recursive: true, force: true });
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
    await nc.flush();
    nc.publish('fstest.evt.call.offer', offerEvent(call));

    await until(async () => got.length > 0, 10_000, `a call command on NATS\n${logTail()}`);
    const ring = got[0];
    assert.ok(ring);
    assert.equal(ring.subject, 'fstest.cmd.call.ring');
    assert.deepEqual(ring.body, { v: 1, call, action: 'ring' });

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
    cmds.unsubscribe();
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
    assert.equal(fs?.exitCode, null, 'FreeSWITCH exited');
  });
});
