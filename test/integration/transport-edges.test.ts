/**
 * TLS and WebSocket transports, two-instance forwarding with HMAC tokens, and hostile input
 * (RFC 4475 / RFC 5118 corpora, garbage, oversize datagrams, idle connections).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson, FlowEvent, OutMessage, ResponseEnvelope, subjects, toBase64, type FlowRef } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startResponder, type Responder } from '../support/responder.js';
import { makeTestCert, type TestCert } from '../support/tls-cert.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { connectWsSip, isRequest, isResponse } from '../support/ws-sip-client.js';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));

function udpExchange(port: number, data: Buffer, waitMs = 400): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const got: Buffer[] = [];
    s.on('message', (m) => got.push(m));
    s.bind(0, '127.0.0.1', () => {
      s.send(data, port, '127.0.0.1');
      setTimeout(() => {
        s.close();
        resolve(got);
      }, waitMs);
    });
  });
}

describe('transport edges: TLS, WebSocket, two instances, hostile input', function () {
  let nats: NatsServer;
  let cert: TestCert;
  let a: TransportProcess;
  let b: TransportProcess;
  let responder: Responder;
  let nc: NatsConnection;

  before(async function () {
    nats = await startNatsServer();
    cert = makeTestCert();
    const env = { SIP_TLS_CERT: cert.cert, SIP_TLS_KEY: cert.key, SIP_MAX_CONNECTIONS_PER_IP: '2000', SIP_IDLE_TIMEOUT: '30s' };
    a = await startTransport({ natsUrl: nats.url, instance: 'edge-a', transports: ['udp', 'tcp', 'tls', 'ws'], env });
    b = await startTransport({ natsUrl: nats.url, instance: 'edge-b', transports: ['udp'] });
    responder = await startResponder({ natsUrl: nats.url });
    nc = await connect({ servers: nats.url });
  });

  after(async function () {
    await nc?.close();
    await responder?.close();
    await a?.stop();
    await b?.stop();
    await nats?.dispose();
    cert?.dispose();
  });

  // The Debian SIPp is built without OpenSSL ("To use a TLS transport you must compile SIPp with
  // OpenSSL"), so the TLS peer is a Node TLS client speaking the same call flow.
  it('TLS: OPTIONS answered and INVITE → 100 → 180 → 200 → ACK → BYE → 200 completes', async function () {
    const socket = tlsConnect({ host: '127.0.0.1', port: a.ports['tls'] as number, ca: readFileSync(cert.cert) });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const local = `127.0.0.1:${socket.localPort}`;
    const msg = (method: string, cseq: number, toTag: string, branch: string, body = ''): string =>
      [
        `${method} sip:svc@127.0.0.1:${a.ports['tls']};transport=tls SIP/2.0`,
        `Via: SIP/2.0/TLS ${local};branch=z9hG4bK-tls-${branch};rport`,
        'Max-Forwards: 70',
        'From: <sip:tls@127.0.0.1>;tag=tl1',
        `To: <sip:svc@127.0.0.1>${toTag}`,
        'Call-ID: tls-call-1',
        `CSeq: ${cseq} ${method}`,
        `Contact: <sip:tls@${local};transport=tls>`,
        ...(body === '' ? [] : ['Content-Type: application/sdp']),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
    const waitFor = async (re: RegExp): Promise<RegExpExecArray> => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const m = re.exec(text);
        if (m !== null) return m;
        if (Date.now() > deadline) throw new Error(`no ${re} in:\n${text}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    socket.write(msg('OPTIONS', 1, '', 'o1'));
    await waitFor(/SIP\/2\.0 200 OK[\s\S]*CSeq: 1 OPTIONS/);
    socket.write(msg('INVITE', 2, '', 'i1', 'v=0\r\n'));
    await waitFor(/SIP\/2\.0 100 Trying/);
    await waitFor(/SIP\/2\.0 180 Ringing/);
    const ok = await waitFor(/SIP\/2\.0 200 OK[^]*?CSeq: 2 INVITE[^]*?\r\n\r\n/);
    const toTag = /^To: .*(;tag=[^;\r\n]+)/m.exec(ok[0])?.[1] ?? '';
    assert.notEqual(toTag, '');
    socket.write(msg('ACK', 2, toTag, 'a1'));
    socket.write(msg('BYE', 3, toTag, 'b1'));
    await waitFor(/SIP\/2\.0 200 OK[\s\S]*CSeq: 3 BYE/);
    socket.destroy();
    assert.ok(responder.received.some((e) => e.callId === 'tls-call-1' && e.method === 'ACK' && e.flow.transport === 'tls'));
  });

  it('WebSocket (subprotocol sip): OPTIONS and REGISTER answered on the connection; a flow-bound request is delivered on it', async function () {
    const ws = await connectWsSip(`ws://127.0.0.1:${a.ports['ws']}`);
    try {
      const req = (method: string, n: number): string =>
        [
          `${method} sip:example.com SIP/2.0`,
          `Via: ${ws.via()}`,
          'Max-Forwards: 70',
          'From: <sip:alice@example.com>;tag=w1',
          'To: <sip:alice@example.com>',
          `Call-ID: ws-${method}-${n}`,
          `CSeq: ${n} ${method}`,
          `Contact: ${ws.contact('alice')}`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
      ws.send(req('OPTIONS', 1));
      ws.send(req('REGISTER', 2));
      await ws.waitFor(isResponse('OPTIONS', 200, 'ws-OPTIONS-1'), '200 to OPTIONS', 5000);
      await ws.waitFor(isResponse('REGISTER', 200, 'ws-REGISTER-2'), '200 to REGISTER', 5000);
      const reg = responder.received.find((e) => e.callId === 'ws-REGISTER-2');
      assert.ok(reg);
      assert.equal(reg.flow.transport, 'ws');
      const msg = [
        `MESSAGE sip:alice@${ws.host};transport=ws SIP/2.0`,
        'Max-Forwards: 70',
        'From: <sip:server@example.com>;tag=s1',
        'To: <sip:alice@example.com>',
        'Call-ID: ws-flow-1',
        'CSeq: 1 MESSAGE',
        'Content-Type: text/plain',
        'Content-Length: 2',
        '',
        'hi',
      ].join('\r\n');
      nc.publish(subjects().out('edge-a'), encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(msg), flow: reg.flow }));
      await ws.waitFor(isRequest('MESSAGE', 'ws-flow-1'), 'the MESSAGE on the connection', 8000);
    } finally {
      await ws.close();
    }
  });

  it('a closed connection is announced on sip.evt.flow.closed with the flow its requests came on: WebSocket closed by the client (peer), TCP reset (error); the flow then gets 430', async function () {
    const events: FlowEvent[] = [];
    const sub = nc.subscribe(subjects().evtFlow('closed'), {
      callback: (_err, m) => {
        const r = decodeJson(FlowEvent, m.data);
        if (r.ok) events.push(r.value);
      },
    });
    await nc.flush();
    const options = (via: string, callId: string): string =>
      [`OPTIONS sip:example.com SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', 'From: <sip:alice@example.com>;tag=fc1', 'To: <sip:alice@example.com>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    const closedEvent = async (flow: FlowRef): Promise<FlowEvent> => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const ev = events.find((e) => e.flow.id === flow.id);
        if (ev !== undefined) return ev;
        if (Date.now() > deadline) throw new Error(`no flow event for ${flow.id}; got ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      const ws = await connectWsSip(`ws://127.0.0.1:${a.ports['ws']}`);
      ws.send(options(ws.via(), 'flow-close-ws'));
      await ws.waitFor(isResponse('OPTIONS', 200, 'flow-close-ws'), '200 to OPTIONS', 5000);
      const wsFlow = responder.received.find((e) => e.callId === 'flow-close-ws')?.flow;
      assert.ok(wsFlow !== undefined && wsFlow.transport === 'ws');
      await ws.close();
      const wsClosed = await closedEvent(wsFlow);
      assert.deepEqual({ ...wsClosed.flow, token: wsFlow.token }, wsFlow, 'the flow as the request envelope named it (without the token)');
      assert.equal(wsClosed.flow.token, undefined);
      assert.equal(wsClosed.reason, 'peer');
      assert.equal(wsClosed.detail, 'websocket closed (1005)', 'a close frame without a status code (RFC 6455 §7.1.5)');

      const tcp = netConnect(a.ports['tcp'] as number, '127.0.0.1');
      await new Promise<void>((resolve) => tcp.once('connect', () => resolve()));
      const answered = new Promise<void>((resolve) => tcp.on('data', (d: Buffer) => d.toString('latin1').startsWith('SIP/2.0 200') && resolve()));
      tcp.write(options(`SIP/2.0/TCP 127.0.0.1:${tcp.localPort ?? 0};branch=z9hG4bK-fc-tcp`, 'flow-close-tcp'));
      await answered;
      const tcpFlow = responder.received.find((e) => e.callId === 'flow-close-tcp')?.flow;
      assert.ok(tcpFlow !== undefined && tcpFlow.transport === 'tcp');
      tcp.resetAndDestroy();
      const tcpClosed = await closedEvent(tcpFlow);
      assert.equal(tcpClosed.flow.remote, tcpFlow.remote);
      assert.equal(tcpClosed.reason, 'error');
      assert.match(tcpClosed.detail ?? '', /ECONNRESET/);

      // Nothing can go out on a closed flow: the requester gets 430 Flow Failed (RFC 5626 §5.3).
      const msg = ['MESSAGE sip:alice@example.com SIP/2.0', 'Max-Forwards: 70', 'From: <sip:s@example.com>;tag=s1', 'To: <sip:alice@example.com>', 'Call-ID: flow-close-430', 'CSeq: 1 MESSAGE', 'Content-Length: 0', '', ''].join('\r\n');
      const reply = await nc.request(subjects().out('edge-a'), encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(msg), flow: wsFlow }), { timeout: 5000 });
      const r = decodeJson(ResponseEnvelope, reply.data);
      assert.ok(r.ok && r.value.status === 430, JSON.stringify(r));
      assert.equal(events.filter((e) => e.flow.transport === 'udp').length, 0, 'UDP flows are never announced');
    } finally {
      sub.unsubscribe();
    }
  });

  it('a response reaching the instance that does not own the transaction is forwarded and completes it; a tampered branch is refused', async function () {
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const peerPort = peer.address().port;
    const requests: Buffer[] = [];
    peer.on('message', (m) => {
      requests.push(m);
      const text = m.toString('latin1');
      const header = (n: string): string => (new RegExp(`^${n}: (.*)$`, 'mi').exec(text)?.[1] ?? '').trim();
      const res = ['SIP/2.0 200 OK', `Via: ${header('Via')}`, `From: ${header('From')}`, `To: ${header('To')};tag=p1`, `Call-ID: ${header('Call-ID')}`, `CSeq: ${header('CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n');
      const tampered = header('Call-ID') === 'fwd-tampered';
      const body = tampered ? res.replace(/(branch=z9hG4bK-sn1\.[^.]+\.[^.]+\.[^.]+\.)([A-Za-z0-9_-])/, (_m, p: string, c: string) => p + (c === 'A' ? 'B' : 'A')) : res;
      peer.send(Buffer.from(body), b.ports['udp'] as number, '127.0.0.1'); // answer the wrong instance
    });
    const options = (callId: string): string =>
      [`OPTIONS sip:peer@127.0.0.1:${peerPort} SIP/2.0`, 'Max-Forwards: 70', 'From: <sip:a@example.com>;tag=x', 'To: <sip:peer@example.com>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    const reply = await nc.request(subjects().out('edge-a'), encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(options('fwd-ok')) }), { timeout: 5000 });
    const env = decodeJson(ResponseEnvelope, reply.data);
    assert.ok(env.ok);
    assert.equal(env.value.status, 200);
    assert.equal(env.value.instance, 'edge-a');
    assert.ok((await b.metric('sipnats_transport_forwarded_total', { direction: 'out' })) >= 1);
    assert.ok((await a.metric('sipnats_transport_forwarded_total', { direction: 'in' })) >= 1);

    const refusedBefore = await b.metric('sipnats_transport_refused_tokens_total', { where: 'branch', fault: 'bad-mac' });
    const inbox = nc.subscribe('test.fwd.tampered');
    nc.publish(subjects().out('edge-a'), encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(options('fwd-tampered')) }), { reply: 'test.fwd.tampered' });
    const deadline = Date.now() + 5000;
    while ((await b.metric('sipnats_transport_refused_tokens_total', { where: 'branch', fault: 'bad-mac' })) === refusedBefore && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok((await b.metric('sipnats_transport_refused_tokens_total', { where: 'branch', fault: 'bad-mac' })) > refusedBefore);
    inbox.unsubscribe();
    peer.close();
  });

  it('RFC 4475 / RFC 5118 corpora over UDP: valid requests published, badvers gets 505, invalid ones 400 or dropped', async function () {
    const files = ['rfc4475', 'rfc5118'].flatMap((d) => readdirSync(CORPUS + d).filter((f) => f.endsWith('.dat')).map((f) => `${CORPUS}${d}/${f}`));
    const answers = new Map<string, string[]>();
    for (const f of files) {
      const got = await udpExchange(a.ports['udp'] as number, readFileSync(f), 60);
      answers.set(f.split('/').pop() as string, got.map((g) => g.toString('latin1').split('\r\n')[0] as string));
    }
    assert.deepEqual(answers.get('badvers.dat')?.filter((l) => !l.includes(' 100 ')), ['SIP/2.0 505 Version Not Supported']);
    for (const bad of ['badinv01.dat', 'scalar02.dat', 'lwsruri.dat']) {
      const lines = answers.get(bad) ?? [];
      assert.ok(lines.length === 0 || lines.every((l) => l.startsWith('SIP/2.0 400')), `${bad}: ${lines.join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(responder.received.some((e) => e.method === 'REGISTER'), 'valid REGISTERs of the corpus were published');
    assert.ok(responder.received.some((e) => e.method === "!interesting-Method0123456789_*+`.%indeed'~"), 'intmeth.dat published on its encoded subject');
    assert.equal((await a.http('/healthz')).status, 200);
  });

  it('garbage, empty and 65 KB datagrams, an endless TCP header and 1,000 idle connections leave the process up with bounded memory', async function () {
    const port = a.ports['udp'] as number;
    for (const d of [Buffer.alloc(0), Buffer.from('\x00\xff garbage \r\n\r\n'), Buffer.alloc(65_000, 0x41), Buffer.from('INVITE sip:x SIP/2.0\r\n')]) {
      await udpExchange(port, d, 20);
    }
    const endless = netConnect({ host: '127.0.0.1', port: a.ports['tcp'] as number });
    endless.on('error', () => undefined);
    const endlessClosed = new Promise<void>((r) => endless.once('close', () => r()));
    endless.write('INVITE sip:x@y SIP/2.0\r\n');
    for (let i = 0; i < 200 && !endless.destroyed; i++) endless.write(`X-Filler-${i}: ${'z'.repeat(1000)}\r\n`);
    await endlessClosed;

    const idle: Socket[] = [];
    await Promise.all(
      Array.from({ length: 1000 }, () =>
        new Promise<void>((resolve) => {
          const s = netConnect({ host: '127.0.0.1', port: a.ports['tcp'] as number }, () => resolve());
          s.on('error', () => resolve());
          idle.push(s);
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await a.http('/healthz')).status, 200);
    const rss = await a.metric('sipnats_transport_process_resident_memory_bytes');
    assert.ok(rss < 400 * 1024 * 1024, `rss ${rss}`);
    for (const s of idle) s.destroy();
    assert.equal((await a.http('/healthz')).status, 200);
  });
});
