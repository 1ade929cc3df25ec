/**
 * Default routing (SIPNATS_ROUTING=bridge) with a static route (SIPNATS_ROUTES_FILE): no
 * controller; a SIPp caller dials 9123, which is not registered; the route `9` → a SIPp UAS that
 * challenges with 407 (test/sipp/uas-auth-call.xml) with the route's credentials. The call is set
 * up end to end and the caller's BYE reaches the callee; a number with no route gets 404.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp, startSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('ua default routing: inbound calls bridged by static route, no controller', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let dir: string | undefined;
  let calleePort = 0;

  const logs = (): string => `--- ua ---\n${(ua?.logs ?? []).slice(-15).join('\n')}`;

  before(async () => {
    calleePort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'sipnats-routes-'));
    writeFileSync(join(dir, 'routes.json'), JSON.stringify({ routes: [{ prefix: '9', target: `sip:{user}@127.0.0.1:${calleePort}`, username: 'alice', password: 'secret' }] }));
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-rt', transports: ['udp'] });
    ua = await startUa({
      natsUrl: nats.url,
      instance: 'ua-rt',
      env: { SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_ROUTING: 'bridge', SIPNATS_ROUTES_FILE: join(dir, 'routes.json') },
    });
  });

  after(async () => {
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('9123 → route 9 → SIPp UAS with a 407 challenge: answered, BYE passes', async () => {
    const target = `sip:9123@127.0.0.1:${calleePort}`;
    const expected = md5(`${md5('alice:sipp:secret')}:sipp-nonce-1:${md5(`INVITE:${target}`)}`);
    const callee = startSipp({ scenario: 'uas-auth-call.xml', localPort: calleePort, timeoutMs: 20_000, args: ['-key', 'expected', expected] });
    await new Promise((r) => setTimeout(r, 300));
    const caller = await runSipp({
      scenario: 'ua-call.xml',
      remote: `127.0.0.1:${transport?.ports['udp'] ?? 0}`,
      localPort: await freePort(),
      timeoutMs: 15_000,
      args: ['-s', '9123', '-recv_timeout', '8000'],
    });
    assert.equal(caller.code, 0, `caller: ${caller.output.slice(-1500)}\n${logs()}`);
    const c = await callee.done;
    assert.equal(c.code, 0, `callee: ${c.output.slice(-1500)}\n${logs()}`);
  });

  it('a number with no route and no registration gets 404', async () => {
    const r = await runSipp({
      scenario: 'uac-call-404.xml',
      remote: `127.0.0.1:${transport?.ports['udp'] ?? 0}`,
      localPort: await freePort(),
      timeoutMs: 10_000,
      args: ['-s', '5555', '-recv_timeout', '5000'],
    });
    assert.equal(r.code, 0, `${r.output.slice(-1500)}\n${logs()}`);
  });
});
