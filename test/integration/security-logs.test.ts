/**
 * Security: secrets are never logged. A full run at LOG_LEVEL=trace with every kind of secret in
 * play (NATS user passwords from deploy/nats/accounts.conf, SIPNATS_SECRET, SIPNATS_AUTH_SECRET, a
 * users file with a SIP password, SIPp REGISTERs with digest Authorization, a wrong password, a
 * call, an originate command with credentials answered by a challenging UAS, a malformed request
 * carrying an Authorization header, NATS URLs with embedded credentials while NATS is unreachable)
 * and every line of every process is searched for the secrets, the digest `response=` values and
 * the full Authorization header values, in clear and inside base64.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandReply, decodeJson } from '@sipnats/contracts';
import { freePort } from '../support/ports.js';
import { startAnsweringController, type AnsweringController } from '../support/security-controller.js';
import { findLeaks, spawnLogged, startChallengingUas, type ChallengingUas } from '../support/security-logs.js';
import { connectWatched, randomPasswords, startPermissionedNats, type ConfiguredNats, type WatchedConnection } from '../support/security-nats.js';
import { runSipp, type SippResult } from '../support/sipp.js';
import { startTransport, TRANSPORT_MAIN, type TransportProcess } from '../support/transport-process.js';
import { startUa, UA_MAIN, type UaProcess } from '../support/ua-process.js';

const secret = (tag: string): string => `${tag}${randomBytes(16).toString('hex')}`;

describe('security: secrets never in logs (transport and ua at LOG_LEVEL=trace)', function () {
  this.timeout(90_000);
  const natsPasswords = randomPasswords();
  const routingSecret = secret('route-');
  const authSecret = secret('nonce-');
  const sipPassword = secret('sip-');
  const wrongPassword = secret('wrong-');
  const originatePassword = secret('orig-');
  const malformedCredential = secret('malformed');
  const realm = 'sec-realm';
  let dir: string | undefined;
  let nats: ConfiguredNats | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let tools: WatchedConnection | undefined;
  let fsshim: WatchedConnection | undefined;
  let controller: AnsweringController | undefined;
  let uas: ChallengingUas | undefined;
  /** Raw SIP requests the transport received (tools user on sip.raw.in.*). */
  const rawIn: string[] = [];
  /** Output of processes started and stopped inside a test. */
  const extraLogs: string[] = [];

  const explain = (r: SippResult): string =>
    `SIPp exit ${String(r.code)}\n${r.output.slice(-2000)}\n--- transport ---\n${(transport?.logs ?? []).slice(-10).join('\n')}\n--- ua ---\n${(ua?.logs ?? []).slice(-10).join('\n')}`;
  const sipp = async (scenario: string, service: string, args: readonly string[] = []): Promise<SippResult> => {
    if (transport === undefined) throw new Error('no transport');
    return runSipp({ scenario, remote: `127.0.0.1:${transport.ports['udp']}`, localPort: await freePort(), timeoutMs: 15_000, args: ['-s', service, '-recv_timeout', '8000', ...args] });
  };

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'sipnats-sec-logs-'));
    writeFileSync(join(dir, 'users.json'), JSON.stringify({ users: [{ username: 'alice', realm, password: sipPassword }] }));
    nats = await startPermissionedNats(natsPasswords);
    transport = await startTransport({
      natsUrl: nats.url,
      instance: 'log-tr',
      transports: ['udp'],
      secret: routingSecret,
      env: { LOG_LEVEL: 'trace', NATS_USER: 'transport', NATS_PASSWORD: natsPasswords.transport },
    });
    ua = await startUa({
      natsUrl: nats.url,
      instance: 'log-ua',
      env: {
        LOG_LEVEL: 'trace',
        NATS_USER: 'ua',
        NATS_PASSWORD: natsPasswords.ua,
        SIPNATS_AUTH_SECRET: authSecret,
        SIPNATS_REALM: realm,
        SIPNATS_USERS_FILE: join(dir, 'users.json'),
        SIPNATS_DIGEST_ALGORITHMS: 'MD5',
        SIPNATS_ANSWER_TIMEOUT: '5s',
      },
    });
    tools = await connectWatched({ servers: nats.url, user: 'tools', pass: natsPasswords.tools });
    tools.nc.subscribe('sip.raw.in.*', { callback: (_e, m) => void rawIn.push(Buffer.from(m.data).toString('latin1')) });
    await tools.nc.flush();
    fsshim = await connectWatched({ servers: nats.url, user: 'fsshim', pass: natsPasswords.fsshim });
    controller = startAnsweringController(fsshim.nc);
    await fsshim.nc.flush();
    uas = await startChallengingUas(realm);
  });

  after(async function () {
    controller?.stop();
    uas?.close();
    await tools?.nc.close().catch(() => undefined);
    await fsshim?.nc.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the traffic: REGISTER with digest (right and wrong password), a call, an originate with credentials, a malformed request', async function () {
    assert.ok(transport !== undefined && fsshim !== undefined && uas !== undefined && controller !== undefined);
    const reg = await sipp('ua-register.xml', 'alice', ['-au', 'alice', '-ap', sipPassword]);
    assert.equal(reg.code, 0, explain(reg));
    const bad = await sipp('ua-register-forbidden.xml', 'alice', ['-au', 'alice', '-ap', wrongPassword]);
    assert.equal(bad.code, 0, explain(bad));
    const call = await runSipp({ scenario: 'uac-call.xml', remote: `127.0.0.1:${transport.ports['udp']}`, localPort: await freePort(), timeoutMs: 15_000 });
    assert.equal(call.code, 0, explain(call));
    assert.deepEqual(controller.failures, []);

    const reply = await fsshim.nc.request(
      'sip.cmd.call.originate',
      JSON.stringify({
        v: 1,
        call: `sec-orig-${randomBytes(4).toString('hex')}`,
        action: 'originate',
        from: `sip:alice@${realm}`,
        to: `sip:bob@127.0.0.1:${uas.port}`,
        credentials: { username: 'alice', password: originatePassword, realm },
        timeoutMs: 5000,
      }),
      { timeout: 5000 },
    );
    // Whether or not this ua carries out originate, the credentials in the command must not reach
    // a log; when it does, its digest answer to the challenging UAS is searched for as well.
    const r = decodeJson(CommandReply, reply.data);
    assert.ok(r.ok, Buffer.from(reply.data).toString('utf8'));
    if (r.value.ok) {
      const deadline = Date.now() + 8000;
      while (uas.authorizations.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      assert.equal(uas.authorizations.length, 1, 'the ua answered the 401 with the originate credentials');
    } else {
      assert.equal(r.value.code, 'INVALID', Buffer.from(reply.data).toString('utf8'));
    }

    // A request the transport cannot parse (CSeq method differs), carrying credentials.
    const peer = createSocket('udp4');
    try {
      const got = new Promise<string>((resolve) => peer.once('message', (m) => resolve(m.toString('latin1').split('\r\n')[0] ?? '')));
      await new Promise<void>((res) => peer.bind(0, '127.0.0.1', () => res()));
      const text = [
        `REGISTER sip:127.0.0.1:${transport.ports['udp']} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.address().port};branch=z9hG4bK-sec-malformed;rport`,
        'From: <sip:alice@127.0.0.1>;tag=m1',
        'To: <sip:alice@127.0.0.1>',
        'Call-ID: sec-malformed-1',
        'CSeq: 1 INVITE',
        `Authorization: Digest username="alice", realm="${realm}", nonce="x", uri="sip:127.0.0.1", response="${malformedCredential}"`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      peer.send(Buffer.from(text, 'latin1'), transport.ports['udp'] as number, '127.0.0.1');
      assert.match(await got, /^SIP\/2\.0 400 /);
    } finally {
      peer.close();
    }
  });

  it('services given NATS URLs with embedded credentials log the servers without them while NATS is unreachable', async function () {
    const dead = await freePort();
    const url = (user: 'transport' | 'ua'): string => `nats://${user}:${natsPasswords[user]}@127.0.0.1:${dead}`;
    const t = spawnLogged(TRANSPORT_MAIN, { NATS_URL: url('transport'), SIPNATS_SECRET: routingSecret, SIP_LISTEN: 'udp:127.0.0.1:0', HTTP_LISTEN: '127.0.0.1:0', LOG_LEVEL: 'trace' });
    const u = spawnLogged(UA_MAIN, { NATS_URL: url('ua'), SIPNATS_AUTH_SECRET: authSecret, HTTP_LISTEN: '127.0.0.1:0', LOG_LEVEL: 'trace' });
    try {
      const tl = await t.waitForLine(/NATS not reachable yet/, 5000);
      const ul = await u.waitForLine(/NATS not reachable yet/, 5000);
      for (const line of [tl, ul]) assert.match(line, new RegExp(`127\\.0\\.0\\.1:${dead}`), 'the server address is still logged');
    } finally {
      await t.stop();
      await u.stop();
      extraLogs.push(...t.lines, ...u.lines);
    }
  });

  it('no password, secret, digest response or Authorization value appears in any output', function () {
    assert.ok(transport !== undefined && ua !== undefined && nats !== undefined && uas !== undefined);
    const authorizations = [...rawIn.flatMap((m) => [...m.matchAll(/^Authorization:[ \t]*(.+)$/gim)].map((x) => (x[1] ?? '').trim())), ...uas.authorizations];
    // ua-register.xml answers three challenges, ua-register-forbidden.xml one, plus the malformed
    // request (and the ua's own answer to the UAS when it carries out originate).
    assert.ok(authorizations.length >= 5, `Authorization values seen: ${authorizations.length}`);
    const responses = authorizations.map((a) => /response="?([^",\s]+)/i.exec(a)?.[1] ?? '');
    assert.ok(responses.every((r) => r.length >= 32 || r === malformedCredential), responses.join(', '));
    const secrets = [
      ...Object.values(natsPasswords),
      routingSecret,
      authSecret,
      sipPassword,
      wrongPassword,
      originatePassword,
      malformedCredential,
      ...responses,
      ...authorizations,
    ];
    const sources: Record<string, readonly string[]> = {
      transport: transport.logs,
      ua: ua.logs,
      'nats-server': nats.logs,
      'unreachable-NATS runs': extraLogs,
    };
    // The run really logged at trace level (otherwise the search proves nothing).
    assert.ok(transport.logs.some((l) => l.includes('"level":"trace"')) && ua.logs.length >= 5, `services wrote logs (transport ${transport.logs.length}, ua ${ua.logs.length})`);
    for (const [name, lines] of Object.entries(sources)) {
      const leaked = findLeaks(lines, secrets);
      const where = leaked.map((s) => lines.find((l) => l.includes(s)) ?? `(inside base64) ${s}`);
      assert.deepEqual(where, [], `${name} logged secrets`);
    }
  });
});
