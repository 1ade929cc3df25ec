/**
 * A routing loop through the B2BUA (RFC 3261 §16.3 step 3, §16.6 step 3): SIPNATS_ROUTING=bridge
 * with a static route (SIPNATS_ROUTES_FILE) whose target is the transport itself, so every bridged
 * leg comes back as a new inbound call and is bridged again. Each leg starts at the inbound
 * Max-Forwards minus one, so the loop ends: the call whose leg would get 0 is answered 483, which
 * travels back leg by leg to the SIPp caller. A subscriber on `sip.req.INVITE` counts the INVITEs
 * that crossed NATS: one per Max-Forwards value from the caller's 70 down to 1, never more.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, fromBase64, RequestEnvelope } from '@sipnats/contracts';
import { parseMessage } from '@sipnats/sip-codec';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

describe('ua bridge: a route back to sipnats ends with 483 Too Many Hops, not an endless loop', function () {
  this.timeout(90_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  let dir: string | undefined;
  /** Call-ID → Max-Forwards of each new INVITE published for the ua (republished ones counted once). */
  const invites = new Map<string, number | undefined>();

  const logs = (): string => `--- ua ---\n${(ua?.logs ?? []).slice(-30).join('\n')}\n--- transport ---\n${(transport?.logs ?? []).slice(-30).join('\n')}`;

  before(async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-loop', transports: ['udp'] });
    dir = mkdtempSync(join(tmpdir(), 'sipnats-loop-'));
    // Every user is routed to the transport itself: each leg comes back in as a new call.
    writeFileSync(join(dir, 'routes.json'), JSON.stringify({ routes: [{ prefix: '', target: `sip:{user}@127.0.0.1:${transport.ports['udp'] ?? 0}` }] }));
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const sub = conn.subscribe('sip.req.INVITE');
    void (async () => {
      for await (const m of sub) {
        const env = decodeJson(RequestEnvelope, m.data);
        if (!env.ok || invites.has(env.value.callId)) continue;
        let maxForwards: number | undefined;
        try {
          const msg = parseMessage(fromBase64(env.value.raw));
          maxForwards = msg.kind === 'request' ? msg.maxForwards : undefined;
        } catch {
          maxForwards = undefined;
        }
        invites.set(env.value.callId, maxForwards);
      }
    })();
    await conn.flush();
    ua = await startUa({
      natsUrl: nats.url,
      instance: 'ua-loop',
      env: { SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_ROUTING: 'bridge', SIPNATS_ROUTES_FILE: join(dir, 'routes.json') },
    });
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('the caller (Max-Forwards 70) gets 483 after 70 INVITEs, one per Max-Forwards value from 70 to 1', async () => {
    const r = await runSipp({
      scenario: 'uac-call-483.xml',
      remote: `127.0.0.1:${transport?.ports['udp'] ?? 0}`,
      localPort: await freePort(),
      timeoutMs: 60_000,
      args: ['-s', '9123', '-recv_timeout', '50000'],
    });
    assert.equal(r.code, 0, `caller: ${r.output.slice(-1500)}\n${logs()}`);
    // The 483 reached the caller through every hop, so every INVITE of the loop was published before it.
    const seen = [...invites.values()];
    assert.equal(seen.length, 70, `INVITEs on sip.req.INVITE: ${JSON.stringify(seen)}`);
    assert.deepEqual(
      [...seen].sort((a, b) => (b ?? 0) - (a ?? 0)),
      Array.from({ length: 70 }, (_, i) => 70 - i),
      'each hop one lower, from the caller\'s 70 down to 1',
    );
  });
});
