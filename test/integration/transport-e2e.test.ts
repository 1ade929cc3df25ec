/**
 * The transport end to end with a real nats-server, the real transport process and SIPp as UAC:
 * OPTIONS and a full call over UDP and TCP, exactly-once publishing under 10% loss, and SIPp as
 * UAS for requests sent through `sip.out`.
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson, OutMessage, ResponseEnvelope, subjects, toBase64 } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startResponder, type Responder } from '../support/responder.js';
import { runSipp, startSipp } from '../support/sipp.js';
import { freePort } from '../support/ports.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';

describe('transport end to end (nats-server, transport process, SIPp)', function () {
  let nats: NatsServer;
  let transport: TransportProcess;
  let responder: Responder;

  before(async function () {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'e2e-1', transports: ['udp', 'tcp'], env: { SIP_T1: '100ms', SIP_T2: '400ms' } });
    responder = await startResponder({ natsUrl: nats.url });
  });

  after(async function () {
    await responder?.close();
    await transport?.stop();
    await nats?.dispose();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(transport.logs.slice(-40).join('\n') + '\n');
  });

  for (const [name, flag] of [
    ['UDP', 'u1'],
    ['TCP', 't1'],
  ] as const) {
    it(`answers OPTIONS over ${name} with the responder's 200`, async function () {
      const port = transport.ports[name.toLowerCase()] as number;
      const r = await runSipp({ scenario: 'uac-options.xml', remote: `127.0.0.1:${port}`, transport: flag, calls: 2, timeoutMs: 10_000 });
      assert.equal(r.code, 0, r.output.slice(-2000));
    });

    it(`completes INVITE → 100 → 180 → 200 → ACK → BYE → 200 over ${name}`, async function () {
      const before = responder.count('ACK');
      const port = transport.ports[name.toLowerCase()] as number;
      const r = await runSipp({ scenario: 'uac-call.xml', remote: `127.0.0.1:${port}`, transport: flag, calls: 3, timeoutMs: 15_000 });
      assert.equal(r.code, 0, r.output.slice(-2000));
      assert.equal(responder.count('ACK') - before, 3, 'each ACK for 2xx is published once');
    });
  }

  it('publishes each request exactly once over UDP with 10% loss (SIPp -lost 10)', async function () {
    const start = responder.received.length;
    const r = await runSipp({
      scenario: 'uac-call.xml',
      remote: `127.0.0.1:${transport.ports['udp']}`,
      transport: 'u1',
      calls: 10,
      rate: 20,
      args: ['-lost', '10'],
      timeoutMs: 40_000,
    });
    assert.equal(r.code, 0, r.output.slice(-2000));
    // A slow responder may see a request again as a republish (attempt 2, 3, ...: the transport's
    // guard against a lost envelope, not a retransmission); what must be exactly once is what the
    // peer's retransmissions cause, so only first attempts are counted.
    const mine = responder.received.slice(start).filter((e) => (e.attempt ?? 1) === 1);
    const perCall = new Map<string, string[]>();
    for (const e of mine) perCall.set(e.callId, [...(perCall.get(e.callId) ?? []), e.method]);
    const detail = [...perCall].map(([id, methods]) => `${id}: ${methods.join(' ')}`).join('\n');
    assert.equal(perCall.size, 10, `every call published its requests\n${detail}`);
    // INVITE and BYE exactly once. The ACK at most once: when every copy of it is lost, SIPp's BYE
    // can end the call before a retransmitted 200 draws another ACK.
    for (const [id, methods] of perCall) {
      const n = (method: string): number => methods.filter((m) => m === method).length;
      const why = `${id}\n${detail}\n${r.output.slice(-1500)}`;
      assert.equal(n('INVITE'), 1, `INVITE published once: ${why}`);
      assert.equal(n('BYE'), 1, `BYE published once: ${why}`);
      assert.ok(n('ACK') <= 1, `ACK published at most once: ${why}`);
    }
  });

  describe('SIPp as UAS', function () {
    let nc: NatsConnection;
    before(async function () {
      nc = await connect({ servers: nats.url });
    });
    after(async function () {
      await nc?.close();
    });

    function options(port: number, callId: string): string {
      return [
        `OPTIONS sip:uas@127.0.0.1:${port} SIP/2.0`,
        'Max-Forwards: 70',
        'From: <sip:tester@127.0.0.1>;tag=t1',
        `To: <sip:uas@127.0.0.1:${port}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 OPTIONS',
        '',
        '',
      ].join('\r\n');
    }

    it('delivers a request from sip.out to SIPp and returns its 200 to the reply subject', async function () {
      const port = await freePort();
      const sipp = startSipp({ scenario: 'uas-options.xml', localPort: port, calls: 1, timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
      const out: OutMessage = { v: 1, kind: 'request', raw: toBase64(options(port, 'uas-ok-1')) };
      const reply = await nc.request(subjects().outAny(), encodeJson(OutMessage, out), { timeout: 5000 });
      const env = decodeJson(ResponseEnvelope, reply.data);
      assert.ok(env.ok);
      assert.equal(env.value.status, 200);
      assert.equal(env.value.callId, 'uas-ok-1');
      const r = await sipp.done;
      assert.equal(r.code, 0, r.output.slice(-2000));
    });

    it('retransmits to a silent UAS and reports 408 with timeout: true (Timer F)', async function () {
      const port = await freePort();
      const sipp = startSipp({ scenario: 'uas-silent.xml', localPort: port, calls: 1, timeoutMs: 12_000 });
      await new Promise((r) => setTimeout(r, 300));
      const retransBefore = await transport.metric('sipnats_transport_retransmissions_total', { side: 'client', direction: 'out' });
      const out: OutMessage = { v: 1, kind: 'request', raw: toBase64(options(port, 'uas-silent-1')) };
      const reply = await nc.request(subjects().out('e2e-1'), encodeJson(OutMessage, out), { timeout: 10_000 });
      const d = decodeJson(ResponseEnvelope, reply.data);
      const env = d.ok ? d.value : undefined;
      assert.ok(env);
      assert.equal(env.status, 408);
      assert.equal(env.timeout, true);
      const retrans = (await transport.metric('sipnats_transport_retransmissions_total', { side: 'client', direction: 'out' })) - retransBefore;
      assert.ok(retrans >= 3, `retransmissions sent: ${retrans}`);
      await sipp.stop();
    });
  });
});
