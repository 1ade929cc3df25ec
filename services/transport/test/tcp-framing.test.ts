import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { decodeJson, fromBase64, RequestEnvelope } from '@sipnats/contracts';
import type { App } from '../src/app.js';
import { testApp, waitFor, type FakeNats } from './helpers.js';

function invite(callId: string): string {
  return [
    'INVITE sip:bob@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    'From: <sip:alice@127.0.0.1>;tag=a1',
    'To: <sip:bob@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Content-Type: application/sdp',
    'Content-Length: 4',
    '',
    'v=0\n',
  ].join('\r\n');
}

describe('TCP listener framing with a real socket (RFC 3261 §18.3, RFC 5626 §3.5.1)', function () {
  let app: App;
  let nats: FakeNats;
  let port: number;
  const sockets: Socket[] = [];

  beforeEach(async function () {
    ({ app, nats } = testApp({ SIP_LISTEN: 'tcp:127.0.0.1:0', SIP_IDLE_TIMEOUT: '2s', SIP_MAX_CONNECTIONS_PER_IP: '3' }));
    await app.start();
    port = app.listeners.listeners[0]?.info.local.port as number;
  });

  afterEach(async function () {
    for (const s of sockets.splice(0)) s.destroy();
    await app.close();
  });

  function open(): Promise<{ socket: Socket; received: () => string }> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      sockets.push(socket);
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.once('connect', () => resolve({ socket, received: () => text }));
      socket.once('error', reject);
    });
  }

  it('frames messages split at every boundary and sent back to back, publishes each, answers 100 Trying on the connection', async function () {
    const { socket, received } = await open();
    const both = invite('tcp-a') + invite('tcp-b');
    for (let i = 0; i < both.length; i += 7) socket.write(both.slice(i, i + 7));
    await waitFor('two requests published', () => nats.on('sip.req.INVITE').length === 2);
    const envs = nats.on('sip.req.INVITE').map((p) => decodeJson(RequestEnvelope, p.data));
    assert.deepEqual(envs.map((e) => e.ok && e.value.callId), ['tcp-a', 'tcp-b']);
    const first = envs[0];
    assert.ok(first?.ok);
    assert.equal(first.value.flow.transport, 'tcp');
    assert.match(Buffer.from(fromBase64(first.value.raw)).toString(), /received=127\.0\.0\.1/);
    await waitFor('two 100 Trying', () => (received().match(/SIP\/2\.0 100 Trying/g) ?? []).length === 2);
  });

  it('answers a CRLFCRLF ping with a CRLF pong', async function () {
    const { socket, received } = await open();
    socket.write('\r\n\r\n');
    await waitFor('pong', () => received() === '\r\n');
  });

  it('closes the connection on a framing error (header section that never ends within the line limit)', async function () {
    const { socket } = await open();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('INVITE sip:x@y SIP/2.0\r\nX-Long: ' + 'a'.repeat(20_000));
    await closed;
  });

  it('refuses connections beyond the per-IP limit', async function () {
    for (let i = 0; i < 3; i++) await open();
    const { socket } = await open();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.equal(app.listeners.listeners[0]?.connections, 3);
  });
});
