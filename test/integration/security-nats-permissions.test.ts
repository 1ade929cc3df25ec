/**
 * Security: NATS credentials per service with subject permissions. A nats-server runs with
 * deploy/nats/accounts.conf (users transport, ua, fsshim, tools; test passwords in the server's
 * environment); the real transport and ua log in as their own users, the C shim's example
 * controller as `fsshim`, and SIPp traffic flows end to end through them, so the permissions are
 * proven sufficient (JetStream KV API, `_INBOX` replies, `$SRV` micro-service subjects, raw taps,
 * call commands) by a server that logged no violation. Subjects outside a user's part are refused.
 */
import assert from 'node:assert/strict';
import { stopProcess } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { startShimController, type ShimController } from '../support/shim-controller.js';
import { connectWatched, randomPasswords, startPermissionedNats, type ConfiguredNats, type NatsUser, type WatchedConnection } from '../support/security-nats.js';
import { runSipp, type SippResult } from '../support/sipp.js';
import { runCli } from './tools-support.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

describe('security: per-service NATS credentials and subject permissions (deploy/nats/accounts.conf)', function () {
  this.timeout(90_000);
  const passwords = randomPasswords();
  let nats: ConfiguredNats | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let shim: ShimController | undefined;
  const clients: WatchedConnection[] = [];

  const login = async (user: NatsUser): Promise<WatchedConnection> => {
    if (nats === undefined) throw new Error('no nats-server');
    const c = await connectWatched({ servers: nats.url, user, pass: passwords[user], name: `security-test:${user}` });
    clients.push(c);
    return c;
  };
  const creds = (user: NatsUser): Record<string, string> => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] });
  /** nats-server log lines about refused subjects (`Publish Violation`, `Subscription Violation`). */
  const violations = (): string[] => (nats?.logs ?? []).filter((l) => /Violation/.test(l));
  const explain = (r: SippResult): string =>
    [
      `SIPp exit ${String(r.code)}\n${r.output.slice(-2000)}`,
      `--- nats-server ---\n${(nats?.logs ?? []).slice(-20).join('\n')}`,
      `--- transport ---\n${(transport?.logs ?? []).slice(-15).join('\n')}`,
      `--- ua ---\n${(ua?.logs ?? []).slice(-15).join('\n')}`,
      `--- controller ---\n${(shim?.lines ?? []).slice(-15).join('\n')}`,
    ].join('\n');

  before(async function () {
    nats = await startPermissionedNats(passwords);
    transport = await startTransport({ natsUrl: nats.url, instance: 'sec-tr', transports: ['udp'], env: creds('transport') });
    ua = await startUa({ natsUrl: nats.url, instance: 'sec-ua', env: { ...creds('ua'), SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_ANSWER_TIMEOUT: '5s' } });
    // The C shim takes its credentials from the server URL (libnats natsOptions_SetServers).
    shim = startShimController(`nats://fsshim:${passwords.fsshim}@127.0.0.1:${nats.port}`);
    await shim.waitFor(/^ready$/, 10_000);
  });

  after(async function () {
    await Promise.all(clients.map((c) => c.nc.close().catch(() => undefined)));
    if (shim !== undefined) await stopProcess(shim.child, 'SIGTERM');
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
  });

  it('refuses the services a login with another user\'s password', async function () {
    if (nats === undefined) throw new Error('no nats-server');
    const url = nats.url;
    await assert.rejects(() => connectWatched({ servers: url, user: 'transport', pass: passwords.ua }), /Authorization/i);
    await assert.rejects(() => connectWatched({ servers: url }), /Authorization/i);
  });

  it('a service given its credentials in NATS_URL (as libnats takes them) logs in with them and never logs them', async function () {
    if (nats === undefined) throw new Error('no nats-server');
    const t = await startTransport({ natsUrl: `nats://transport:${passwords.transport}@127.0.0.1:${nats.port}`, instance: 'sec-tr-url', transports: ['udp'] });
    try {
      assert.equal((await t.http('/readyz')).status, 200);
      assert.ok(t.logs.some((l) => /NATS connected/.test(l)), t.logs.join('\n'));
      assert.deepEqual(t.logs.filter((l) => l.includes(passwords.transport)), []);
    } finally {
      await t.stop('SIGTERM');
    }
  });

  it('transport and ua, each with its own user: SIPp OPTIONS answered end to end; tools sees it on sip.raw.*', async function () {
    assert.ok(transport !== undefined && ua !== undefined);
    const tools = await login('tools');
    const seen: string[] = [];
    const tap = tools.nc.subscribe('sip.raw.>', {
      callback: (_e, m) => {
        seen.push(`${m.subject} ${Buffer.from(m.data).toString('latin1').split('\r\n')[0] ?? ''}`);
      },
    });
    await tools.nc.flush();
    // The operator tool too: `sipnats tail` logged in as tools.
    const tail = runCli(['tail', '--json'], { NATS_URL: nats?.url ?? '', NATS_USER: 'tools', NATS_PASSWORD: passwords.tools });
    try {
      await tail.waitStderr(/listening on/);
    } catch (e) {
      await tail.stop('SIGKILL');
      throw e;
    }
    const r = await runSipp({ scenario: 'ua-options.xml', remote: `127.0.0.1:${transport.ports['udp']}`, localPort: await freePort(), timeoutMs: 15_000, args: ['-s', 'alice'] });
    assert.equal(r.code, 0, explain(r));
    const deadline = Date.now() + 3000;
    while (!seen.some((s) => s.startsWith('sip.raw.out.sec-tr SIP/2.0 200')) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    tap.unsubscribe();
    assert.ok(seen.some((s) => s.startsWith('sip.raw.in.sec-tr OPTIONS ')), seen.join('\n'));
    assert.ok(seen.some((s) => s.startsWith('sip.raw.out.sec-tr SIP/2.0 200')), seen.join('\n'));
    assert.deepEqual(await tools.settle(), []);
    try {
      const lines = await tail.waitLines(2);
      assert.ok(lines.some((l) => /"method":"OPTIONS"/.test(l)), lines.join('\n'));
      assert.doesNotMatch(tail.stderr(), /permission|authorization/i);
    } finally {
      await tail.stop('SIGINT');
    }
  });

  it('the C shim logged in as fsshim answers a SIPp call through call commands; the call ends', async function () {
    assert.ok(transport !== undefined && shim !== undefined);
    const ctl = shim;
    const r = await runSipp({ scenario: 'uac-call.xml', remote: `127.0.0.1:${transport.ports['udp']}`, localPort: await freePort(), timeoutMs: 20_000 });
    assert.equal(r.code, 0, explain(r));
    const offer = await ctl.waitFor(/^offer \S+ /, 5000);
    const call = offer.split(' ')[1] ?? '';
    assert.notEqual(call, '');
    await ctl.waitFor(new RegExp(`^answer ${call} ok$`), 5000);
    await ctl.waitFor(new RegExp(`^ended ${call} `), 10_000);
  });

  it('the permissions are sufficient: no violation logged by nats-server, transport, ua or the shim after those flows', function () {
    assert.deepEqual(violations(), []);
    const noisy = [...(transport?.logs ?? []), ...(ua?.logs ?? []), ...(shim?.lines ?? [])].filter((l) => /permission|authorization/i.test(l));
    assert.deepEqual(noisy, []);
  });

  it('refuses what a user has no part in: tools publishing sip.out, transport subscribing sip.cmd.call.>, fsshim publishing sip.req.INVITE', async function () {
    const tools = await login('tools');
    tools.nc.publish('sip.out', 'x');
    tools.nc.publish('sip.cmd.call.hangup', 'x');
    assert.deepEqual(await tools.settle(), ['publish sip.out', 'publish sip.cmd.call.hangup']);

    const transportUser = await login('transport');
    transportUser.nc.subscribe('sip.cmd.call.>', { callback: () => undefined });
    transportUser.nc.subscribe('sip.evt.>', { callback: () => undefined });
    transportUser.nc.publish('sip.evt.call.offer', 'x');
    assert.deepEqual(await transportUser.settle(), ['subscription sip.cmd.call.>', 'subscription sip.evt.>', 'publish sip.evt.call.offer']);

    const fsshim = await login('fsshim');
    fsshim.nc.publish('sip.req.INVITE', 'x');
    fsshim.nc.publish('sip.fwd.sec-tr', 'x');
    fsshim.nc.subscribe('sip.req.>', { callback: () => undefined });
    assert.deepEqual(await fsshim.settle(), ['publish sip.req.INVITE', 'publish sip.fwd.sec-tr', 'subscription sip.req.>']);

    const uaUser = await login('ua');
    uaUser.nc.subscribe('sip.raw.>', { callback: () => undefined });
    uaUser.nc.publish('sip.raw.in.sec-tr', 'x');
    assert.deepEqual(await uaUser.settle(), ['subscription sip.raw.>', 'publish sip.raw.in.sec-tr']);

    const logged = violations();
    for (const [user, subject] of [
      ['tools', 'sip.out'],
      ['transport', 'sip.cmd.call.>'],
      ['fsshim', 'sip.req.INVITE'],
      ['ua', 'sip.raw.>'],
    ] as const) {
      assert.ok(logged.some((l) => l.includes(`"${user}"`) && l.includes(`"${subject}"`)), `nats-server logged ${user} ${subject}:\n${logged.join('\n')}`);
    }
  });

  it('a refused publish reaches no subscriber: only the ua\'s sip.out.<instance> arrives, not the tools user\'s', async function () {
    const receiver = await login('transport');
    const got: string[] = [];
    receiver.nc.subscribe('sip.out.sec-probe', { callback: (_e, m) => void got.push(m.string()) });
    await receiver.nc.flush();
    const tools = await login('tools');
    tools.nc.publish('sip.out.sec-probe', 'from tools');
    assert.deepEqual(await tools.settle(), ['publish sip.out.sec-probe']);
    const uaUser = await login('ua');
    uaUser.nc.publish('sip.out.sec-probe', 'from ua');
    assert.deepEqual(await uaUser.settle(), []);
    const deadline = Date.now() + 3000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await receiver.nc.flush();
    assert.deepEqual(got, ['from ua']);
  });
});
