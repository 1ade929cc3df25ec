/**
 * deploy/nats/accounts.conf on a real nats-server: every user authenticates with the password
 * from its environment variable, may use exactly the subjects its part needs (proto/README.md),
 * and is refused the rest. The flows are the ones the parts run: transport → ua requests, ua →
 * transport sends with replies, ua KV in JetStream, controller commands and events, raw taps.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection, type Msg } from '@nats-io/transport-node';
import { freePort } from '../support/ports.js';
import { stopProcess, waitForTcp } from '../support/nats-server.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const USERS = ['transport', 'ua', 'fsshim', 'tools', 'sys'] as const;
type User = (typeof USERS)[number];

interface Client {
  nc: NatsConnection;
  /** Subjects the server refused, as `publish <subject>` or `subscription <subject>`. */
  denied: string[];
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function nextMessage(nc: NatsConnection, subject: string, queue?: string): Promise<Msg> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${subject}`)), 3000);
    nc.subscribe(subject, {
      ...(queue === undefined ? {} : { queue }),
      max: 1,
      callback: (err, msg) => {
        clearTimeout(timer);
        if (err !== null) reject(err);
        else resolvePromise(msg);
      },
    });
  });
}

describe('deploy/nats accounts and permissions', function () {
  let dir: string;
  let server: ChildProcess | undefined;
  let port: number;
  // nats-server parses a variable's value as config: a password must start with a letter.
  const passwords = Object.fromEntries(USERS.map((u) => [u, `p${randomBytes(16).toString('hex')}`])) as Record<User, string>;
  let stopping = false;
  const clients: NatsConnection[] = [];

  async function login(user: User, password = passwords[user]): Promise<Client> {
    const nc = await connect({ servers: `127.0.0.1:${port}`, user, pass: password, reconnect: false });
    clients.push(nc);
    const denied: string[] = [];
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type !== 'error') continue;
        const e = s.error as { name?: string; operation?: string; subject?: string };
        if (e.name === 'PermissionViolationError') denied.push(`${e.operation ?? '?'} ${e.subject ?? '?'}`);
      }
    })();
    return { nc, denied };
  }

  /** Flushes so every -ERR the server sent for earlier operations has arrived. */
  async function settle(c: Client): Promise<string[]> {
    await c.nc.flush();
    await tick();
    return c.denied;
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'sipnats-nats-perm-'));
    port = await freePort();
    // nats-server resolves an include relative to the including file.
    const include = relative(dir, join(repo, 'deploy/nats/accounts.conf'));
    writeFileSync(join(dir, 'server.conf'), `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(dir, 'js')}" }\ninclude "${include}"\n`);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const u of USERS) env[`NATS_${u.toUpperCase()}_PASSWORD`] = passwords[u];
    server = spawn('nats-server', ['-c', join(dir, 'server.conf')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr?.on('data', (b: Buffer) => {
      log = (log + b.toString()).slice(-4000);
    });
    server.once('exit', (code) => {
      if (!stopping) process.stderr.write(`nats-server exited early (${String(code)}): ${log}\n`);
    });
    await waitForTcp('127.0.0.1', port);
  });

  after(async function () {
    await Promise.all(clients.map((nc) => nc.close().catch(() => undefined)));
    stopping = true;
    if (server !== undefined) await stopProcess(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password and an unknown user', async function () {
    await assert.rejects(() => connect({ servers: `127.0.0.1:${port}`, user: 'ua', pass: 'wrong', reconnect: false }), /Authorization/i);
    await assert.rejects(() => connect({ servers: `127.0.0.1:${port}`, user: 'nobody', pass: passwords.ua, reconnect: false }), /Authorization/i);
  });

  it('refuses to start when a password variable is missing', async function () {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const u of USERS) delete env[`NATS_${u.toUpperCase()}_PASSWORD`];
    const code = await new Promise<number | null>((r) => {
      const p = spawn('nats-server', ['-t', '-c', join(dir, 'server.conf')], { env, stdio: 'ignore' });
      p.once('exit', r);
    });
    assert.notEqual(code, 0);
  });

  it('carries transport → ua requests and ua → transport sends with replies on the reply inbox', async function () {
    const transport = await login('transport');
    const ua = await login('ua');
    const atUa = nextMessage(ua.nc, 'sip.req.*', 'ua');
    const atTransport = nextMessage(transport.nc, 'sip.out', 'transport');
    const atInstance = nextMessage(transport.nc, 'sip.out.transport-1');
    const forwarded = nextMessage(transport.nc, 'sip.fwd.transport-1');
    const flowEvent = nextMessage(ua.nc, 'sip.evt.flow.*', 'ua');
    await transport.nc.flush();
    await ua.nc.flush();

    transport.nc.publish('sip.req.INVITE', 'req');
    assert.equal((await atUa).subject, 'sip.req.INVITE');
    transport.nc.publish('sip.evt.flow.closed', 'flow closed');
    assert.equal((await flowEvent).subject, 'sip.evt.flow.closed');

    const inbox = `_INBOX.${randomBytes(8).toString('hex')}`;
    const response = nextMessage(ua.nc, inbox);
    await ua.nc.flush();
    ua.nc.publish('sip.out', 'new request', { reply: inbox });
    const sent = await atTransport;
    assert.ok(sent.reply !== undefined && sent.reply !== '');
    transport.nc.publish(sent.reply, '180 Ringing');
    assert.equal((await response).string(), '180 Ringing');

    ua.nc.publish('sip.out.transport-1', 'response');
    assert.equal((await atInstance).string(), 'response');
    transport.nc.publish('sip.fwd.transport-1', 'forwarded');
    assert.equal((await forwarded).string(), 'forwarded');
    transport.nc.publish('sip.raw.in.transport-1', 'raw');
    assert.deepEqual(await settle(transport), []);
    assert.deepEqual(await settle(ua), []);
  });

  it('keeps transport off ua subjects and ua off transport subjects', async function () {
    const transport = await login('transport');
    transport.nc.subscribe('sip.req.*', { callback: () => undefined });
    transport.nc.publish('sip.evt.call.offer', 'x');
    transport.nc.publish('sip.evt.reg.registered', 'x');
    transport.nc.publish('sip.cmd.call.answer', 'x');
    transport.nc.publish('$JS.API.INFO', 'x');
    assert.deepEqual(await settle(transport), [
      'subscription sip.req.*',
      'publish sip.evt.call.offer',
      'publish sip.evt.reg.registered',
      'publish sip.cmd.call.answer',
      'publish $JS.API.INFO',
    ]);
    const ua = await login('ua');
    ua.nc.subscribe('sip.raw.in.*', { callback: () => undefined });
    ua.nc.subscribe('sip.fwd.*', { callback: () => undefined });
    ua.nc.publish('sip.req.INVITE', 'x');
    ua.nc.publish('sip.raw.in.t1', 'x');
    assert.deepEqual(await settle(ua), ['subscription sip.raw.in.*', 'subscription sip.fwd.*', 'publish sip.req.INVITE', 'publish sip.raw.in.t1']);
  });

  it('lets ua keep its dialogs in JetStream KV buckets, and only in its own', async function () {
    const ua = await login('ua');
    const kvm = new Kvm(ua.nc);
    const calls = await kvm.create('sipnats_calls', { history: 1 });
    await calls.put('call.1', 'state');
    assert.equal((await calls.get('call.1'))?.string(), 'state');
    const other = await kvm.create('elsewhere', { history: 1 });
    await assert.rejects(() => other.put('k', 'v'));
    const denied = await settle(ua);
    assert.ok(denied.includes('publish $KV.elsewhere.k'), denied.join(', '));
  });

  it('gives controllers (fsshim) commands, events, channel events, raw taps and sends, and nothing else', async function () {
    const ua = await login('ua');
    const fsshim = await login('fsshim');
    ua.nc.subscribe('sip.cmd.call.*', { queue: 'ua', callback: (_e, m) => {
        m.respond('ok');
      },
    });
    const event = nextMessage(fsshim.nc, 'sip.evt.>');
    await ua.nc.flush();
    await fsshim.nc.flush();
    const reply = await fsshim.nc.request('sip.cmd.call.answer', 'cmd', { timeout: 3000 });
    assert.equal(reply.string(), 'ok');
    ua.nc.publish('sip.evt.call.offer', 'offer');
    assert.equal((await event).subject, 'sip.evt.call.offer');
    fsshim.nc.subscribe('sip.raw.in.*', { callback: () => undefined });
    fsshim.nc.publish('sip.evt.channel.hangup', 'x');
    fsshim.nc.publish('sip.out', 'x');
    fsshim.nc.publish('sip.out.transport-1', 'x');
    assert.deepEqual(await settle(fsshim), []);
    fsshim.nc.publish('sip.req.INVITE', 'x');
    fsshim.nc.publish('sip.evt.call.offer', 'x');
    fsshim.nc.subscribe('sip.req.*', { callback: () => undefined });
    assert.deepEqual(await settle(fsshim), ['publish sip.req.INVITE', 'publish sip.evt.call.offer', 'subscription sip.req.*']);
  });

  it('lets tools read raw SIP and nothing else', async function () {
    const transport = await login('transport');
    const tools = await login('tools');
    const raw = nextMessage(tools.nc, 'sip.raw.>');
    await tools.nc.flush();
    transport.nc.publish('sip.raw.out.transport-1', 'raw');
    assert.equal((await raw).subject, 'sip.raw.out.transport-1');
    tools.nc.subscribe('sip.req.*', { callback: () => undefined });
    tools.nc.subscribe('sip.evt.>', { callback: () => undefined });
    tools.nc.publish('sip.out', 'x');
    assert.deepEqual(await settle(tools), ['subscription sip.req.*', 'subscription sip.evt.>', 'publish sip.out']);
  });

  it('keeps the SIPNATS account apart from the system account', async function () {
    const sys = await login('sys');
    const seen: string[] = [];
    sys.nc.subscribe('sip.>', { callback: (_e, m) => {
        seen.push(m.subject);
      },
    });
    await sys.nc.flush();
    const transport = await login('transport');
    transport.nc.publish('sip.raw.in.transport-1', 'raw');
    await transport.nc.flush();
    await sys.nc.flush();
    assert.deepEqual(seen, [], 'system account users do not see application traffic');
    assert.deepEqual(await settle(transport), []);
  });
});
