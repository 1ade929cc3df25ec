/**
 * Connection hygiene of the transport process: idle TCP connections are closed after
 * SIP_IDLE_TIMEOUT while ones that send RFC 5626 CRLF keep-alives stay; WebSocket peers that stop
 * answering pings are closed; SIP_MAX_CONNECTIONS_PER_IP refuses extra TCP and WebSocket
 * connections from one address (counted) and admits new ones once a slot is free.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';

const IDLE_MS = 1000;
const PER_IP = 3;

interface Conn {
  readonly socket: Socket;
  readonly opened: number;
  /** Resolves with the time the socket closed. */
  readonly closed: Promise<number>;
  readonly data: Buffer[];
}

function tcp(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const data: Buffer[] = [];
    socket.on('data', (d: Buffer) => data.push(d));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
    socket.once('connect', () => resolve({ socket, opened: Date.now(), closed, data }));
    socket.once('error', reject);
  });
}

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}

describe('transport connections: idle timeout and per-source limits (transport process)', function () {
  let nats: NatsServer;
  let transport: TransportProcess;

  before(async function () {
    nats = await startNatsServer();
    transport = await startTransport({
      natsUrl: nats.url,
      instance: 'conn-1',
      transports: ['tcp', 'ws'],
      env: { SIP_IDLE_TIMEOUT: `${IDLE_MS}ms`, SIP_MAX_CONNECTIONS_PER_IP: String(PER_IP), LOG_LEVEL: 'debug' },
    });
  });

  after(async function () {
    await transport?.stop();
    await nats?.dispose();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(transport.logs.slice(-40).join('\n') + '\n');
  });

  it('closes an idle TCP connection after SIP_IDLE_TIMEOUT and keeps one alive with CRLF keep-alives (RFC 5626 §3.5.1)', async function () {
    const idle = await tcp(transport.ports['tcp'] as number);
    const busy = await tcp(transport.ports['tcp'] as number);
    const pinger = setInterval(() => busy.socket.write('\r\n\r\n'), IDLE_MS / 3);
    try {
      const at = await within(idle.closed, IDLE_MS * 4);
      assert.notEqual(at, 'timeout', 'the idle connection was closed');
      const after = (at as number) - idle.opened;
      assert.ok(after >= IDLE_MS * 0.9 && after < IDLE_MS * 3, `closed after ${after} ms`);
      const logDeadline = Date.now() + 2000; // the log line travels through a pipe: give it a moment
      while (!transport.logs.some((l) => l.includes('idle timeout')) && Date.now() < logDeadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(transport.logs.some((l) => l.includes('idle timeout')), 'closing reason logged');
      await new Promise((r) => setTimeout(r, IDLE_MS * 1.5));
      assert.ok(!busy.socket.destroyed, 'the connection with keep-alives is still open');
      assert.ok(Buffer.concat(busy.data).toString('latin1').includes('\r\n'), 'keep-alives were answered with a pong');
    } finally {
      clearInterval(pinger);
      busy.socket.destroy();
    }
  });

  it('closes a WebSocket peer that stops answering pings', async function () {
    const ws = new WebSocket(`ws://127.0.0.1:${transport.ports['ws']}`, 'sip', { autoPong: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const opened = Date.now();
    const closed = new Promise<number>((r) => ws.once('close', () => r(Date.now())));
    const at = await within(closed, IDLE_MS * 5);
    assert.notEqual(at, 'timeout', 'the silent WebSocket peer was closed');
    assert.ok((at as number) - opened < IDLE_MS * 4);
  });

  it(`refuses TCP connections beyond SIP_MAX_CONNECTIONS_PER_IP (${PER_IP}) and admits again once one closes`, async function () {
    const port = transport.ports['tcp'] as number;
    const refusedBefore = await transport.metric('sipnats_transport_connections_refused_total');
    const held: Conn[] = [];
    for (let i = 0; i < PER_IP; i++) held.push(await tcp(port));
    const pinger = setInterval(() => {
      for (const c of held) if (!c.socket.destroyed) c.socket.write('\r\n\r\n');
    }, IDLE_MS / 3);
    try {
      await new Promise((r) => setTimeout(r, 100));
      const extra = await tcp(port);
      assert.notEqual(await within(extra.closed, 1000), 'timeout', 'the extra connection was closed at once');
      assert.equal(await transport.metric('sipnats_transport_connections_refused_total'), refusedBefore + 1);
      for (const c of held) assert.ok(!c.socket.destroyed, 'admitted connections are untouched');
      assert.equal(await transport.metric('sipnats_transport_connections_open', { transport: 'tcp' }), PER_IP);

      // A WebSocket from the same address counts against the same per-IP limit (RFC 7118 flows are connections too).
      const ws = new WebSocket(`ws://127.0.0.1:${transport.ports['ws']}`, 'sip');
      ws.on('error', () => undefined);
      const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
      assert.equal(code, 1013, 'WebSocket refused with 1013 Try Again Later');
      assert.equal(await transport.metric('sipnats_transport_connections_refused_total'), refusedBefore + 2);

      const first = held.shift() as Conn;
      first.socket.destroy();
      await first.closed;
      await new Promise((r) => setTimeout(r, 100));
      const again = await tcp(port);
      held.push(again);
      assert.equal(await within(again.closed, 300), 'timeout', 'a connection is admitted once a slot is free');
    } finally {
      clearInterval(pinger);
      for (const c of held) c.socket.destroy();
    }
  });
});
