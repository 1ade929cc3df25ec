/**
 * WebSocket listener (RFC 7118): WS and WSS, subprotocol `sip` required; each WebSocket message
 * carries exactly one SIP message. Idle connections are detected with WebSocket pings and closed.
 * WS flows cannot be opened towards a peer (browsers are never servers), only reused.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { HostPort, ListenSpec } from './address.js';
import { plainHost } from './address.js';
import type { ConnectionGuard } from './connection-guard.js';
import type { FlowCloseReason } from '@sipnats/contracts';
import type { CloseCause, Flow, FlowClosedHandler, InboundHandler, Listener, ListenerInfo } from './flow.js';
import type { FlowIdAllocator } from './flow-ids.js';
import type { TlsOptions } from './tls.js';

export interface WsListenerOptions {
  readonly spec: ListenSpec;
  readonly index: number;
  readonly advertise: (boundPort: number) => HostPort;
  readonly guard: ConnectionGuard;
  readonly ids: FlowIdAllocator;
  readonly maxMessageBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxWriteBufferBytes: number;
  readonly tls: TlsOptions | undefined;
  readonly onMessage: InboundHandler;
  readonly onOpen: (flow: Flow) => void;
  readonly onClose: FlowClosedHandler;
  readonly onRefused: (remote: HostPort) => void;
}

class WsFlow implements Flow {
  readonly reliable = true;
  readonly id: string;
  readonly transport: 'ws' | 'wss';
  readonly listener: ListenerInfo;
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly socket: WebSocket;
  readonly #maxWriteBuffer: number;
  alive = true;
  /** Set when we close the connection; a close without it is the peer's (or the network's). */
  cause: CloseCause | undefined;

  constructor(id: string, listener: ListenerInfo, socket: WebSocket, remote: HostPort, maxWriteBuffer: number) {
    this.id = id;
    this.transport = listener.transport === 'wss' ? 'wss' : 'ws';
    this.listener = listener;
    this.local = listener.local;
    this.remote = remote;
    this.socket = socket;
    this.#maxWriteBuffer = maxWriteBuffer;
  }

  get closed(): boolean {
    return this.socket.readyState !== this.socket.OPEN;
  }

  send(data: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.socket.bufferedAmount + data.length > this.#maxWriteBuffer) {
      this.terminate('limit', 'write buffer full');
      return false;
    }
    // RFC 7118 §5.1: text frames for UTF-8 messages are allowed, binary always is; send text
    // when the bytes are valid UTF-8 so browser stacks (JsSIP, SIP.js) read them as strings.
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.socket.send(buf, { binary: !isUtf8(buf) });
    return true;
  }

  terminate(reason: FlowCloseReason, detail: string): void {
    this.cause ??= { reason, detail };
    this.socket.terminate();
  }
}

/**
 * Why a WebSocket closed that we did not close (RFC 6455 §7.4.1 codes): a close frame that says
 * normal or going away (or gives no code) is the peer's; 1009 (too big), 1002 and 1007 (protocol,
 * bad data) are the limits of this listener (the ws library closes with them); anything else,
 * 1006 above all (no close frame: the connection dropped), is an error.
 */
export function wsCloseCause(code: number): CloseCause {
  const detail = `websocket closed (${code})`;
  if (code === 1000 || code === 1001 || code === 1005) return { reason: 'peer', detail };
  if (code === 1002 || code === 1007 || code === 1009) return { reason: 'limit', detail };
  return { reason: 'error', detail };
}

function isUtf8(buf: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

export class WsListener implements Listener {
  #info: ListenerInfo;
  readonly #opts: WsListenerOptions;
  #http: Server | undefined;
  #wss: WebSocketServer | undefined;
  #pinger: NodeJS.Timeout | undefined;
  readonly #flows = new Map<string, WsFlow>();

  constructor(opts: WsListenerOptions) {
    this.#opts = opts;
    this.#info = { index: opts.index, transport: opts.spec.transport, local: opts.spec, advertised: opts.advertise(opts.spec.port) };
  }

  get info(): ListenerInfo {
    return this.#info;
  }

  get connections(): number {
    return this.#flows.size;
  }

  start(): Promise<void> {
    const tls = this.#opts.tls;
    const http = tls === undefined ? createHttpServer() : createHttpsServer({ cert: tls.cert, key: tls.key });
    http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('WebSocket (subprotocol sip) only\n');
    });
    http.on('clientError', (_err, socket) => socket.destroy());
    const wss = new WebSocketServer({
      server: http,
      maxPayload: this.#opts.maxMessageBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
    wss.on('connection', (socket, req) => this.#accept(socket, req));
    wss.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen({ port: this.#opts.spec.port, host: this.#opts.spec.host, ipv6Only: this.#opts.spec.host.includes(':') }, () => {
        http.off('error', reject);
        const addr = http.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : this.#opts.spec.port;
        this.#info = {
          index: this.#opts.index,
          transport: this.#opts.spec.transport,
          local: { host: this.#opts.spec.host, port },
          advertised: this.#opts.advertise(port),
        };
        this.#http = http;
        this.#wss = wss;
        this.#pinger = setInterval(() => this.#sweep(), Math.max(500, Math.floor(this.#opts.idleTimeoutMs / 2)));
        this.#pinger.unref();
        resolve();
      });
    });
  }

  #accept(socket: WebSocket, req: IncomingMessage): void {
    const remote = { host: plainHost(req.socket.remoteAddress ?? '0.0.0.0'), port: req.socket.remotePort ?? 0 };
    socket.on('error', () => undefined);
    if (socket.protocol !== 'sip') {
      socket.close(1002, 'subprotocol sip required');
      return;
    }
    if (!this.#opts.guard.tryAcquire(remote.host)) {
      this.#opts.onRefused(remote);
      socket.close(1013, 'too many connections');
      return;
    }
    const id = this.#opts.ids.next(this.#info.transport, this.#info.index);
    const flow = new WsFlow(id, this.#info, socket, remote, this.#opts.maxWriteBufferBytes);
    this.#flows.set(id, flow);
    this.#opts.onOpen(flow);
    socket.on('pong', () => {
      flow.alive = true;
    });
    socket.on('message', (data: RawData) => {
      flow.alive = true;
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      this.#opts.onMessage(buf, flow, Date.now());
    });
    socket.on('close', (code) => {
      this.#flows.delete(id);
      this.#opts.guard.release(remote.host);
      const cause = flow.cause ?? wsCloseCause(code);
      this.#opts.onClose(flow, cause.reason, cause.detail);
    });
  }

  /** Terminates connections that did not answer the previous ping; pings the others. */
  #sweep(): void {
    for (const flow of this.#flows.values()) {
      if (!flow.alive) {
        flow.terminate('idle', 'no answer to the WebSocket ping');
        continue;
      }
      flow.alive = false;
      flow.socket.ping();
    }
  }

  flow(id: string): Flow | undefined {
    return this.#flows.get(id);
  }

  flowTo(remote: HostPort): Flow | undefined {
    for (const flow of this.#flows.values()) {
      if (flow.remote.host === remote.host && flow.remote.port === remote.port && !flow.closed) return flow;
    }
    return undefined;
  }

  /**
   * Closes connections gracefully, used when draining: a close frame 1001 (going away) tells the
   * client to reconnect elsewhere; one that does not answer it within 2 s is dropped.
   */
  endAll(detail: string): void {
    for (const flow of this.#flows.values()) {
      flow.cause ??= { reason: 'shutdown', detail };
      flow.socket.close(1001, 'going away');
      setTimeout(() => flow.terminate('shutdown', detail), 2000).unref();
    }
  }

  close(): Promise<void> {
    if (this.#pinger !== undefined) clearInterval(this.#pinger);
    for (const flow of this.#flows.values()) flow.terminate('shutdown', 'transport stopping');
    const http = this.#http;
    this.#wss?.close();
    this.#http = undefined;
    if (http === undefined) return Promise.resolve();
    return new Promise((resolve) => http.close(() => resolve()));
  }
}
