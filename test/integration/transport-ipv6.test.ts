/**
 * IPv6 listeners (RFC 5118): the transport bound on [::1] over UDP and TCP. SIPp (bound on ::1)
 * gets OPTIONS answered and completes a call; the top Via the ua sees carries received=::1
 * (an IPv6address without brackets, RFC 3261 §20.42 / RFC 5118 §4.5); raw copies carry
 * `Sipnats-Remote: [::1]:port`; the flow and the advertised address are written bracketed.
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { fromBase64, RAW_HEADERS, subjects } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startResponder, type Responder } from '../support/responder.js';
import { headerLines, runTracedSipp } from '../support/transport-sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';

const INSTANCE = 'v6-1';

interface RawCopy {
  readonly text: string;
  readonly remote: string;
  readonly local: string;
  readonly transport: string;
}

describe('transport over IPv6 ([::1], UDP and TCP) with nats-server, the transport process and SIPp', function () {
  let nats: NatsServer;
  let transport: TransportProcess;
  let responder: Responder;
  let nc: NatsConnection;
  let rawInSub: Subscription;
  const rawIn: RawCopy[] = [];

  before(async function () {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: INSTANCE, host: '::1', transports: ['udp', 'tcp'], env: { SIP_T1: '100ms', SIP_T2: '400ms' } });
    responder = await startResponder({ natsUrl: nats.url });
    nc = await connect({ servers: nats.url });
    rawInSub = nc.subscribe(subjects().rawIn(INSTANCE));
    void (async () => {
      for await (const m of rawInSub) {
        rawIn.push({
          text: Buffer.from(m.data).toString('latin1'),
          remote: m.headers?.get(RAW_HEADERS.remote) ?? '',
          local: m.headers?.get(RAW_HEADERS.local) ?? '',
          transport: m.headers?.get(RAW_HEADERS.transport) ?? '',
        });
      }
    })();
    await nc.flush();
  });

  after(async function () {
    rawInSub?.unsubscribe();
    await nc?.close();
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
    const t = name.toLowerCase();

    it(`${name}: SIPp on ::1 gets OPTIONS answered; the ua sees Via received=::1 and a flow on [::1]`, async function () {
      const port = transport.ports[t] as number;
      const r = await runTracedSipp({ scenario: 'uac-options.xml', remote: `[::1]:${port}`, localIp: '::1', transport: flag, calls: 2, timeoutMs: 10_000 });
      assert.equal(r.code, 0, r.output.slice(-2000));
      const callId = /^Call-ID:\s*(.+?)\r?$/im.exec(r.messages)?.[1];
      assert.ok(callId);
      const env = responder.received.find((e) => e.method === 'OPTIONS' && e.callId === callId);
      assert.ok(env, 'OPTIONS published');
      const topVia = headerLines(Buffer.from(fromBase64(env.raw)).toString('latin1'), 'Via')[0] ?? '';
      assert.match(topVia, new RegExp(`^SIP/2\\.0/${name} \\[::1\\]:[0-9]+;.*received=::1(;|$)`), topVia);
      assert.match(topVia, /;rport=[0-9]+/, 'rport filled in (RFC 3581)');
      assert.equal(env.flow.transport, t);
      assert.equal(env.flow.local, `[::1]:${port}`);
      assert.match(env.flow.remote, /^\[::1\]:[0-9]+$/);
      // The 200 came back to SIPp's IPv6 socket with its own Via untouched apart from received/rport.
      assert.ok(headerLines(r.messages, 'Via').some((v) => v.includes('received=::1')), r.messages.slice(0, 2000));
    });

    it(`${name}: SIPp on ::1 completes INVITE → 100 → 180 → 200 → ACK → BYE; Record-Route names [::1]`, async function () {
      const before = responder.count('ACK');
      const port = transport.ports[t] as number;
      const r = await runTracedSipp({ scenario: 'uac-call.xml', remote: `[::1]:${port}`, localIp: '::1', transport: flag, calls: 2, timeoutMs: 15_000 });
      assert.equal(r.code, 0, r.output.slice(-2000));
      assert.equal(responder.count('ACK') - before, 2);
      const rr = headerLines(r.messages, 'Record-Route');
      assert.ok(rr.length >= 1);
      const tp = t === 'udp' ? '' : ';transport=tcp';
      for (const v of rr) assert.ok(v.startsWith(`<sip:[::1]:${port}${tp};lr;sn-flow=`), v);
      const contacts = headerLines(r.messages, 'Contact').filter((c) => !c.includes('sipp@'));
      assert.ok(contacts.length >= 1);
      for (const c of contacts) assert.ok(c.includes(`@[::1]:${port}${tp}>`), c);
    });
  }

  it('raw copies on sip.raw.in carry Sipnats-Remote and Sipnats-Local as [v6]:port', async function () {
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(rawIn.length >= 8, `raw copies: ${rawIn.length}`);
    for (const c of rawIn) {
      assert.match(c.remote, /^\[::1\]:[0-9]{1,5}$/);
      assert.ok(c.local === `[::1]:${transport.ports['udp']}` || c.local === `[::1]:${transport.ports['tcp']}`, c.local);
    }
    assert.ok(rawIn.some((c) => c.transport === 'udp') && rawIn.some((c) => c.transport === 'tcp'));
  });
});
