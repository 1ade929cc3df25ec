/**
 * Security: TLS to NATS and for SIP. A test CA issues a server certificate (127.0.0.1, ::1,
 * localhost) and a client certificate; nats-server requires TLS and verifies client certificates.
 * The real transport and ua connect with NATS_TLS, NATS_TLS_CA, NATS_TLS_CERT/KEY and carry a
 * SIPp call and a SIP-over-TLS OPTIONS whose server certificate the client verifies against the
 * CA. Clients that do not trust the CA, or bring no certificate, are refused.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { freePort } from '../support/ports.js';
import { startAnsweringController, type AnsweringController } from '../support/security-controller.js';
import { startTlsNats, type ConfiguredNats } from '../support/security-nats.js';
import { runSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

/** Sends one SIP request on a TLS socket and resolves with the first response's status line. */
function firstStatusLine(socket: TLSSocket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no SIP response over TLS; got ${JSON.stringify(buf)}`)), 5000);
    socket.on('data', (b: Buffer) => {
      buf += b.toString('latin1');
      const end = buf.indexOf('\r\n');
      if (end < 0) return;
      const line = buf.slice(0, end);
      if (/^SIP\/2\.0 1\d\d /.test(line) && !buf.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      resolve(line);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(request);
  });
}

/** Speaks NATS in plain text (CONNECT, PING) and returns everything the server sent until it closed. */
function plainTextSession(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server kept a plain-text client open: ${got}`));
    }, 10_000);
    s.on('data', (b: Buffer) => {
      got += b.toString('latin1');
      if (got.includes('\r\n') && !s.writableEnded) s.end('CONNECT {"verbose":false}\r\nPING\r\n');
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

function handshake(o: { port: number; ca: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: o.port, ca: readFileSync(o.ca) });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('security: TLS to NATS (verified both ways) and SIP over TLS with a CA-issued certificate', function () {
  this.timeout(60_000);
  let pki: TestPki | undefined;
  let nats: ConfiguredNats | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  let controller: AnsweringController | undefined;

  before(async function () {
    const p = makeTestPki();
    pki = p;
    nats = await startTlsNats({ cert: p.serverCert, key: p.serverKey, ca: p.ca });
    const natsTls = { NATS_TLS: 'true', NATS_TLS_CA: p.ca, NATS_TLS_CERT: p.clientCert, NATS_TLS_KEY: p.clientKey };
    transport = await startTransport({
      natsUrl: nats.url,
      instance: 'tls-tr',
      transports: ['udp', 'tls'],
      env: { ...natsTls, SIP_TLS_CERT: p.serverCert, SIP_TLS_KEY: p.serverKey },
    });
    ua = await startUa({ natsUrl: nats.url, instance: 'tls-ua', env: { ...natsTls, SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_ANSWER_TIMEOUT: '5s' } });
    nc = await connect({ servers: nats.url, tls: { caFile: p.ca, certFile: p.clientCert, keyFile: p.clientKey }, reconnect: false });
    controller = startAnsweringController(nc);
    await nc.flush();
  });

  after(async function () {
    controller?.stop();
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
    pki?.dispose();
  });

  it('transport and ua reach NATS over verified TLS: a SIPp call is answered by a controller and ends', async function () {
    assert.ok(transport !== undefined && controller !== undefined);
    const r = await runSipp({ scenario: 'uac-call.xml', remote: `127.0.0.1:${transport.ports['udp']}`, localPort: await freePort(), timeoutMs: 20_000 });
    assert.equal(r.code, 0, `SIPp exit ${String(r.code)}\n${r.output.slice(-2000)}\n--- transport ---\n${transport.logs.slice(-10).join('\n')}\n--- ua ---\n${(ua?.logs ?? []).slice(-10).join('\n')}`);
    assert.equal(controller.offers.length, 1);
    const deadline = Date.now() + 5000;
    while (controller.ended.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(controller.ended, controller.offers);
    assert.deepEqual(controller.failures, []);
  });

  it('a ua given only a client certificate (server CA in the system trust store, no NATS_TLS flag) presents it and connects', async function () {
    assert.ok(nats !== undefined && pki !== undefined);
    const u = await startUa({
      natsUrl: nats.url,
      instance: 'tls-ua-cert-only',
      env: { NODE_EXTRA_CA_CERTS: pki.ca, NATS_TLS_CERT: pki.clientCert, NATS_TLS_KEY: pki.clientKey, SIPNATS_AUTH_REQUIRED: 'false' },
    });
    try {
      assert.equal((await u.http('/readyz')).status, 200);
    } finally {
      await u.stop('SIGTERM');
    }
  });

  it('the NATS server is TLS-only and verifies clients: no CA, another CA, no client certificate, or plain text are refused', async function () {
    assert.ok(nats !== undefined && pki !== undefined);
    const url = nats.url;
    const p = pki;
    await assert.rejects(() => connect({ servers: url, reconnect: false, tls: { certFile: p.clientCert, keyFile: p.clientKey } }), /certificate|self[- ]signed/i);
    await assert.rejects(() => connect({ servers: url, reconnect: false, tls: { caFile: p.otherCa, certFile: p.clientCert, keyFile: p.clientKey } }), /certificate|self[- ]signed/i);
    // Without a client certificate the server aborts the handshake: the client sees its TLS alert,
    // or (when the server closes first) a reset — either way the connection is refused.
    await assert.rejects(() => connect({ servers: url, reconnect: false, tls: { caFile: p.ca } }), /bad certificate|certificate required|ECONNRESET/i);
    const plain = await plainTextSession(nats.port);
    assert.match(plain, /^INFO .*"tls_required":true/);
    assert.doesNotMatch(plain, /PONG/);
  });

  it('SIP over TLS: the client verifies the transport\'s certificate against the test CA and gets 200 to OPTIONS', async function () {
    assert.ok(transport !== undefined && pki !== undefined);
    const port = transport.ports['tls'] as number;
    const socket = await handshake({ port, ca: pki.ca });
    try {
      assert.equal(socket.authorized, true);
      const local = `127.0.0.1:${socket.localPort ?? 0}`;
      const options = [
        `OPTIONS sip:alice@127.0.0.1:${port};transport=tls SIP/2.0`,
        `Via: SIP/2.0/TLS ${local};branch=z9hG4bK-sec-tls-1;rport`,
        'Max-Forwards: 70',
        'From: <sip:sec@127.0.0.1>;tag=sec1',
        `To: <sip:alice@127.0.0.1:${port}>`,
        'Call-ID: sec-tls-options-1',
        'CSeq: 1 OPTIONS',
        `Contact: <sip:sec@${local};transport=tls>`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      assert.equal(await firstStatusLine(socket, options), 'SIP/2.0 200 OK');
    } finally {
      socket.destroy();
    }
  });

  it('SIP over TLS: a client that trusts another CA refuses the transport\'s certificate', async function () {
    assert.ok(transport !== undefined && pki !== undefined);
    await assert.rejects(() => handshake({ port: transport?.ports['tls'] as number, ca: pki?.otherCa ?? '' }), /certificate/i);
  });
});
