/**
 * SIP_ADVERTISE end to end: the transport binds 127.0.0.1 but writes its advertised addresses
 * (a name for UDP, another IP and port for TCP) into every Via, Record-Route, Path and Contact it
 * writes, seen both on `sip.raw.out.<instance>` and by the peers (SIPp -trace_msg, a raw UDP
 * socket); responses still reach the peer through Via received/rport, never the advertised name.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { decodeJson, encodeJson, fromBase64, OutMessage, ResponseEnvelope, subjects, toBase64 } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { startResponder, type Responder } from '../support/responder.js';
import { headerLines, runTracedSipp, startTracedSipp } from '../support/transport-sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';

const INSTANCE = 'adv-1';
const UDP_ADV = 'sip.example.test:15060';
const TCP_ADV = '198.51.100.7:15061';

function options(port: number, callId: string, method = 'OPTIONS'): string {
  return [
    `${method} sip:peer@127.0.0.1:${port} SIP/2.0`,
    'Max-Forwards: 70',
    'From: <sip:caller@example.com>;tag=adv1',
    `To: <sip:peer@127.0.0.1:${port}>`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('transport advertised address (SIP_ADVERTISE) with nats-server, the transport process and SIPp', function () {
  let nats: NatsServer;
  let transport: TransportProcess;
  let responder: Responder;
  let nc: NatsConnection;
  let rawOutSub: Subscription;
  const rawOut: string[] = [];

  before(async function () {
    nats = await startNatsServer();
    transport = await startTransport({
      natsUrl: nats.url,
      instance: INSTANCE,
      transports: ['udp', 'tcp'],
      env: { SIP_ADVERTISE: `udp:${UDP_ADV},tcp:${TCP_ADV}`, SIP_T1: '100ms', SIP_T2: '400ms' },
    });
    responder = await startResponder({ natsUrl: nats.url });
    nc = await connect({ servers: nats.url });
    rawOutSub = nc.subscribe(subjects().rawOut(INSTANCE));
    void (async () => {
      for await (const m of rawOutSub) rawOut.push(Buffer.from(m.data).toString('latin1'));
    })();
    await nc.flush();
  });

  after(async function () {
    rawOutSub?.unsubscribe();
    await nc?.close();
    await responder?.close();
    await transport?.stop();
    await nats?.dispose();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(transport.logs.slice(-40).join('\n') + '\n');
  });

  it('logs the bound and advertised address of each listener at start', function () {
    const line = transport.logs.find((l) => l.includes('transport listening'));
    assert.ok(line);
    assert.ok(line.includes(`udp:127.0.0.1:${transport.ports['udp']} (advertised ${UDP_ADV})`), line);
    assert.ok(line.includes(`tcp:127.0.0.1:${transport.ports['tcp']} (advertised ${TCP_ADV})`), line);
  });

  it('UDP call from SIPp completes; Record-Route and Contact carry the advertised name, responses go to Via received/rport', async function () {
    const r = await runTracedSipp({ scenario: 'uac-call.xml', remote: `127.0.0.1:${transport.ports['udp']}`, transport: 'u1', calls: 2, timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.output.slice(-2000));
    const rr = headerLines(r.messages, 'Record-Route');
    assert.ok(rr.length >= 2, `SIPp saw Record-Route in the 200 to INVITE:\n${r.messages.slice(0, 3000)}`);
    for (const v of rr) assert.match(v, new RegExp(`^<sip:${UDP_ADV.replace(/\./g, '\\.')};lr;sn-flow=[A-Za-z0-9._%-]+>$`));
    const contacts = headerLines(r.messages, 'Contact').filter((c) => !c.includes('sipp@127.0.0.1'));
    assert.ok(contacts.length >= 2, 'the transport added a Contact to the 180/200 of INVITE');
    for (const c of contacts) assert.ok(c.includes(`@${UDP_ADV}>`), c);
    // SIPp's ACK and BYE were routed through the advertised Record-Route and still reached us.
    assert.ok(headerLines(r.messages, 'Route').some((v) => v.includes(UDP_ADV)), 'SIPp sent Route: <advertised> on ACK/BYE');
  });

  it('TCP call from SIPp completes with the TCP listener advertised as another IP and port', async function () {
    const r = await runTracedSipp({ scenario: 'uac-call.xml', remote: `127.0.0.1:${transport.ports['tcp']}`, transport: 't1', calls: 1, timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.output.slice(-2000));
    const rr = headerLines(r.messages, 'Record-Route');
    assert.ok(rr.length >= 1);
    for (const v of rr) assert.ok(v.startsWith(`<sip:${TCP_ADV};transport=tcp;lr;sn-flow=`), v);
    const contacts = headerLines(r.messages, 'Contact').filter((c) => !c.includes('sipp@127.0.0.1'));
    assert.ok(contacts.length >= 1);
    for (const c of contacts) assert.ok(c.includes(`@${TCP_ADV};transport=tcp>`), c);
  });

  it('REGISTER from SIPp reaches the registrar with a Path of the advertised address (RFC 3327) and gets its 200', async function () {
    const r = await runTracedSipp({ scenario: 'transport-register.xml', remote: `127.0.0.1:${transport.ports['udp']}`, transport: 'u1', calls: 1, timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.output.slice(-2000));
    const callId = /^Call-ID:\s*(.+?)\r?$/im.exec(r.messages)?.[1];
    assert.ok(callId);
    const env = responder.received.find((e) => e.method === 'REGISTER' && e.callId === callId);
    assert.ok(env, 'REGISTER published');
    const raw = Buffer.from(fromBase64(env.raw)).toString('latin1');
    const paths = headerLines(raw, 'Path');
    assert.equal(paths.length, 1, raw);
    assert.match(paths[0] as string, new RegExp(`^<sip:${UDP_ADV.replace(/\./g, '\\.')};lr;sn-flow=[A-Za-z0-9._%-]+>$`));
    assert.ok(headerLines(raw, 'Via')[0]?.includes(`received=127.0.0.1`), 'the top Via carries received');
  });

  it('requests sent from sip.out carry the advertised Via (SIPp UAS answers over it)', async function () {
    const port = await freePort();
    const sipp = startTracedSipp({ scenario: 'uas-options.xml', localPort: port, calls: 1, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const out: OutMessage = { v: 1, kind: 'request', raw: toBase64(options(port, 'adv-out-1')) };
    const reply = await nc.request(subjects().out(INSTANCE), encodeJson(OutMessage, out), { timeout: 5000 });
    const env = decodeJson(ResponseEnvelope, reply.data);
    assert.ok(env.ok);
    assert.equal(env.value.status, 200);
    const r = await sipp.done;
    assert.equal(r.code, 0, r.output.slice(-2000));
    const vias = headerLines(r.messages, 'Via');
    assert.ok(vias.length >= 1);
    assert.ok(vias.every((v) => v.startsWith(`SIP/2.0/UDP ${UDP_ADV};branch=z9hG4bK-sn1.`)), vias.join('\n'));
  });

  it('an INVITE sent from sip.out carries the advertised Via, Record-Route and Contact; the 603 is ACKed and reported', async function () {
    const peer: Socket = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const got: string[] = [];
    peer.on('message', (m, rinfo) => {
      const text = m.toString('latin1');
      got.push(text);
      if (!text.startsWith('INVITE ')) return;
      const h = (n: string): string => headerLines(text, n)[0] ?? '';
      const res = ['SIP/2.0 603 Decline', ...headerLines(text, 'Via').map((v) => `Via: ${v}`), `From: ${h('From')}`, `To: ${h('To')};tag=p603`, `Call-ID: ${h('Call-ID')}`, `CSeq: ${h('CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n');
      peer.send(Buffer.from(res), rinfo.port, rinfo.address);
    });
    try {
      const invite = options(peer.address().port, 'adv-invite-1', 'INVITE');
      const reply = await nc.request(subjects().out(INSTANCE), encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(invite) }), { timeout: 5000 });
      const env = decodeJson(ResponseEnvelope, reply.data);
      assert.ok(env.ok);
      assert.equal(env.value.status, 603);
      const deadline = Date.now() + 3000;
      while (!got.some((g) => g.startsWith('ACK ')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const inv = got.find((g) => g.startsWith('INVITE '));
      assert.ok(inv);
      assert.ok(headerLines(inv, 'Via')[0]?.startsWith(`SIP/2.0/UDP ${UDP_ADV};branch=z9hG4bK-sn1.`), inv);
      assert.ok(headerLines(inv, 'Record-Route')[0]?.startsWith(`<sip:${UDP_ADV};lr;sn-flow=`), inv);
      assert.equal(headerLines(inv, 'Contact')[0], `<sip:caller@${UDP_ADV}>`);
      assert.ok(got.some((g) => g.startsWith('ACK ')), 'the transport ACKed the 603 (RFC 3261 §17.1.1.3)');
    } finally {
      peer.close();
    }
  });

  it('on sip.raw.out no Via, Record-Route, Path or Contact written by the transport names the bound address', async function () {
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(rawOut.length > 10, `raw copies published: ${rawOut.length}`);
    const bound = [`127.0.0.1:${transport.ports['udp']}`, `127.0.0.1:${transport.ports['tcp']}`];
    let ours = 0;
    for (const msg of rawOut) {
      for (const name of ['Via', 'Record-Route', 'Path', 'Contact']) {
        for (const v of headerLines(msg, name)) {
          assert.ok(!bound.some((b) => v.includes(b)), `${name}: ${v} names the bound address`);
          if (v.includes(UDP_ADV) || v.includes(TCP_ADV)) ours++;
        }
      }
    }
    assert.ok(ours >= 8, `advertised headers seen on raw.out: ${ours}`);
  });
});
