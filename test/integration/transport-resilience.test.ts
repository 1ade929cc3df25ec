/**
 * Failure behaviour of the transport process: NATS unreachable (503 with Retry-After, recovery
 * without restart) and SIGTERM draining (open transactions finish, exit 0).
 */
import assert from 'node:assert/strict';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startResponder, type Responder } from '../support/responder.js';
import { runSipp, startSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('transport resilience (nats-server, transport process, SIPp)', function () {
  let nats: NatsServer;
  let responder: Responder | undefined;
  const procs: TransportProcess[] = [];

  before(async function () {
    nats = await startNatsServer();
  });

  after(async function () {
    await responder?.close().catch(() => undefined);
    for (const p of procs) await p.stop('SIGKILL');
    await nats?.dispose();
  });

  it('answers a new INVITE with 503 and Retry-After while NATS is down, and recovers when it returns', async function () {
    const t = await startTransport({ natsUrl: nats.url, instance: 'res-1', env: { SIP_RETRY_AFTER: '7' } });
    procs.push(t);
    responder = await startResponder({ natsUrl: nats.url });
    const target = `127.0.0.1:${t.ports['udp']}`;

    await nats.stop();
    await until('readyz 503', async () => (await t.http('/readyz')).status === 503);
    const shed = await runSipp({ scenario: 'uac-invite-503.xml', remote: target, calls: 1, timeoutMs: 10_000 });
    assert.equal(shed.code, 0, shed.output.slice(-2000));
    assert.ok((await t.metric('sipnats_transport_shed_total', { reason: 'nats-down', method: 'INVITE' })) >= 1);
    assert.equal((await t.http('/healthz')).status, 200);

    await nats.start();
    await until('readyz 200', async () => (await t.http('/readyz')).status === 200, 20_000);
    await until('responder reconnected', async () => !responder!.nc.isClosed() && responder!.nc.info !== undefined);
    await new Promise((r) => setTimeout(r, 500));
    const ok = await runSipp({ scenario: 'uac-call.xml', remote: target, calls: 2, timeoutMs: 15_000 });
    assert.equal(ok.code, 0, ok.output.slice(-2000) + t.logs.slice(-20).join('\n'));
  });

  it('on SIGTERM lets open INVITE transactions finish, then exits 0', async function () {
    const t = await startTransport({ natsUrl: nats.url, instance: 'res-2' });
    procs.push(t);
    await responder?.close();
    responder = await startResponder({ natsUrl: nats.url, answerDelayMs: 800 });
    const sipp = startSipp({ scenario: 'uac-invite-only.xml', remote: `127.0.0.1:${t.ports['udp']}`, calls: 2, rate: 20, timeoutMs: 15_000 });
    await until('INVITEs published', async () => responder!.count('INVITE') >= 2, 5000);
    const stopped = t.stop('SIGTERM', 20_000);
    const r = await sipp.done;
    assert.equal(r.code, 0, r.output.slice(-2000));
    assert.equal(await stopped, 0, t.logs.slice(-20).join('\n'));
  });
});
