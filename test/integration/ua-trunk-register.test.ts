/**
 * Outbound registration: the ua registers the trunk of SIPNATS_TRUNKS_FILE with a SIPp registrar
 * (test/sipp/uas-registrar.xml) through the real transport: 401 answered with digest (SIPp checks
 * it), 200 granting 2 s, refreshed before expiry (again through the challenge); `reg` events
 * registered → refreshed for the trunk's AoR. Two ua instances have the trunk configured; its lease
 * in KV lets one of them register (one REGISTER dialog, events once).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, RegEvent } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { startSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

describe('ua outbound registration: trunk → SIPp registrar with a 401 challenge, refreshed', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let ua2: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  let dir: string | undefined;

  after(async () => {
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await ua2?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('registered with digest, refreshed before expiry, events registered → refreshed', async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-reg', transports: ['udp'] });
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const events: RegEvent[] = [];
    const sub = conn.subscribe('sip.evt.reg.*');
    void (async () => {
      for await (const m of sub) {
        const r = decodeJson(RegEvent, m.data);
        if (r.ok) events.push(r.value);
      }
    })();
    await conn.flush();
    const port = await freePort();
    const registrar = startSipp({ scenario: 'uas-registrar.xml', localPort: port, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    dir = mkdtempSync(join(tmpdir(), 'sipnats-trunk-'));
    const aor = 'sip:trunkuser@127.0.0.1';
    const trunks = {
      trunks: [{ id: 'sipp', registrar: `sip:127.0.0.1:${port}`, aor, contact: `sip:trunkuser@127.0.0.1:${transport.ports['udp'] ?? 0}`, username: 'trunkuser', password: 'trunkpass', expires: 60 }],
    };
    writeFileSync(join(dir, 'trunks.json'), JSON.stringify(trunks));
    // Two instances with the same trunks file: the trunk lease lets only one of them register.
    [ua, ua2] = await Promise.all([
      startUa({ natsUrl: nats.url, instance: 'ua-reg-1', env: { SIPNATS_TRUNKS_FILE: join(dir, 'trunks.json') } }),
      startUa({ natsUrl: nats.url, instance: 'ua-reg-2', env: { SIPNATS_TRUNKS_FILE: join(dir, 'trunks.json') } }),
    ]);
    const r = await registrar.done;
    assert.equal(r.code, 0, `SIPp exit ${String(r.code)}\n${r.output.slice(-1500)}\n${[...ua.logs, ...(ua2?.logs ?? [])].slice(-20).join('\n')}`);
    const deadline = Date.now() + 3000;
    while (events.filter((e) => e.aor === aor).length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(
      events.filter((e) => e.aor === aor).map((e) => `${e.event}:${e.expires}`),
      ['registered:2', 'refreshed:2'],
    );
  });
});
