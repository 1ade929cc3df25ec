/**
 * SIP over secure WebSocket (RFC 7118 over TLS): a `ws` client with subprotocol `sip` on the wss
 * listener sends REGISTER and OPTIONS and gets both answers on the same connection; the REGISTER
 * reaches the registrar with a `sips:` Path naming the wss listener; a request published on
 * `sip.out.<instance>` for that flow is delivered on the connection; a client that does not offer
 * the `sip` subprotocol is refused; on SIGTERM the transport closes the connection with 1001 (going
 * away) and announces it on `sip.evt.flow.closed` before it leaves NATS.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson, FlowEvent, fromBase64, OutMessage, subjects, toBase64 } from '@sipnats/contracts';
import WebSocket from 'ws';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startResponder, type Responder } from '../support/responder.js';
import { makeTestCert, type TestCert } from '../support/tls-cert.js';
import { headerLines } from '../support/transport-sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { connectWsSip, isRequest, isResponse, type WsSipClient } from '../support/ws-sip-client.js';

const INSTANCE = 'wss-1';

function request(ws: WsSipClient, method: string, n: number): string {
  return [
    `${method} sip:example.com SIP/2.0`,
    `Via: ${ws.via()}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=ws1',
    'To: <sip:alice@example.com>',
    `Call-ID: wss-${method}-${n}`,
    `CSeq: ${n} ${method}`,
    `Contact: ${ws.contact('alice')}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('transport over secure WebSocket (RFC 7118, wss) with nats-server and the transport process', function () {
  let nats: NatsServer;
  let cert: TestCert;
  let transport: TransportProcess;
  let responder: Responder;
  let nc: NatsConnection;

  before(async function () {
    nats = await startNatsServer();
    cert = makeTestCert();
    transport = await startTransport({ natsUrl: nats.url, instance: INSTANCE, transports: ['wss'], env: { SIP_TLS_CERT: cert.cert, SIP_TLS_KEY: cert.key } });
    responder = await startResponder({ natsUrl: nats.url });
    nc = await connect({ servers: nats.url });
  });

  after(async function () {
    await nc?.close();
    await responder?.close();
    await transport?.stop();
    await nats?.dispose();
    cert?.dispose();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(transport.logs.slice(-40).join('\n') + '\n');
  });

  it('answers REGISTER and OPTIONS on the same wss connection and delivers a flow-bound request on it', async function () {
    const port = transport.ports['wss'] as number;
    const ws = await connectWsSip(`wss://127.0.0.1:${port}`, { transport: 'wss', ca: readFileSync(cert.cert) });
    try {
      ws.send(request(ws, 'REGISTER', 1));
      ws.send(request(ws, 'OPTIONS', 2));
      const answers = [
        await ws.waitFor(isResponse('REGISTER', 200, 'wss-REGISTER-1'), '200 to REGISTER', 5000),
        await ws.waitFor(isResponse('OPTIONS', 200, 'wss-OPTIONS-2'), '200 to OPTIONS', 5000),
      ];
      for (const m of answers) assert.ok(headerLines(m.text, 'Via')[0]?.includes('received=127.0.0.1'), m.text);

      const reg = responder.received.find((e) => e.callId === 'wss-REGISTER-1');
      assert.ok(reg, 'REGISTER published');
      assert.equal(reg.flow.transport, 'wss');
      assert.equal(reg.flow.local, `127.0.0.1:${port}`);
      const path = headerLines(Buffer.from(fromBase64(reg.raw)).toString('latin1'), 'Path')[0] ?? '';
      assert.ok(path.startsWith(`<sips:127.0.0.1:${port};transport=wss;lr;sn-flow=`), path);

      const message = [
        `MESSAGE sip:alice@${ws.host};transport=wss SIP/2.0`,
        'Max-Forwards: 70',
        'From: <sip:server@example.com>;tag=s1',
        'To: <sip:alice@example.com>',
        'Call-ID: wss-flow-1',
        'CSeq: 1 MESSAGE',
        'Content-Type: text/plain',
        'Content-Length: 5',
        '',
        'hello',
      ].join('\r\n');
      nc.publish(subjects().out(INSTANCE), encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(message), flow: reg.flow }));
      const delivered = (await ws.waitFor(isRequest('MESSAGE', 'wss-flow-1'), 'the MESSAGE on the wss connection', 5000)).text;
      assert.ok(delivered.endsWith('\r\n\r\nhello'));
      assert.ok(headerLines(delivered, 'Via')[0]?.startsWith(`SIP/2.0/WSS 127.0.0.1:${port};branch=z9hG4bK-sn1.`), delivered);
    } finally {
      await ws.close();
    }
  });

  it('refuses a WebSocket client that does not offer the sip subprotocol', async function () {
    const ws = new WebSocket(`wss://127.0.0.1:${transport.ports['wss']}`, 'chat', { ca: readFileSync(cert.cert) });
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', (err) => resolve(`error: ${err.message}`));
      ws.once('close', (code) => resolve(`close ${code}`));
    });
    ws.terminate();
    assert.notEqual(outcome, 'open');
  });

  // Last: it stops the transport.
  it('SIGTERM: the wss connection is closed with 1001 (going away) and announced on sip.evt.flow.closed (reason shutdown) before the transport leaves NATS', async function () {
    const events: FlowEvent[] = [];
    const sub = nc.subscribe(subjects().evtFlow('closed'), {
      callback: (_err, m) => {
        const r = decodeJson(FlowEvent, m.data);
        if (r.ok) events.push(r.value);
      },
    });
    await nc.flush();
    const ws = await connectWsSip(`wss://127.0.0.1:${transport.ports['wss']}`, { transport: 'wss', ca: readFileSync(cert.cert) });
    ws.send(request(ws, 'OPTIONS', 9));
    await ws.waitFor(isResponse('OPTIONS', 200, 'wss-OPTIONS-9'), '200 to OPTIONS', 5000);
    const flow = responder.received.find((e) => e.callId === 'wss-OPTIONS-9')?.flow;
    assert.ok(flow !== undefined);
    const closed = new Promise<number>((resolve) => ws.ws.once('close', (code) => resolve(code)));
    assert.equal(await transport.stop('SIGTERM'), 0, transport.logs.slice(-20).join('\n'));
    assert.equal(await closed, 1001);
    await nc.flush();
    const ev = events.find((e) => e.flow.id === flow.id);
    assert.ok(ev !== undefined, `no flow event for ${flow.id}: ${JSON.stringify(events)}`);
    assert.equal(ev.reason, 'shutdown');
    assert.equal(ev.flow.instance, INSTANCE);
    assert.equal(ev.flow.transport, 'wss');
    sub.unsubscribe();
  });
});
