/**
 * Shared machinery of the TCP and TLS listeners: accepting connections under the connection
 * guard, the flow table of this listener, and client connections opened (or reused) for
 * requests towards a remote address (RFC 3261 §18.1.1, §18.2.2 connection reuse).
 */
import type { Server, Socket } from 'node:net';
import type { SipParseError } from '@sipnats/sip-codec';
import type { HostPort, ListenSpec, TransportName } from './address.js';
import { formatHostPort, plainHost } from './address.js';
import type { ConnectionGuard } from './connection-guard.js';
import type { Flow, FlowClosedHandler, InboundHandler, Listener, ListenerInfo } from './flow.js';
import type { FlowIdAllocator } from './flow-ids.js';
import { StreamConnection, type StreamLimits } from './stream-connection.js';

export interface StreamListenerOptions {
  readonly spec: ListenSpec;
  readonly index: number;
  readonly advertise: (boundPort: number) => HostPort;
  readonly guard: ConnectionGuard;
  readonly ids: FlowIdAllocator;
  readonly limits: StreamLimits;
  readonly onMessage: InboundHandler;
  readonly onFramingError: (flow: Flow, error: SipParseError) => void;
  readonly onOpen: (flow: Flow) => void;
  readonly onClose: FlowClosedHandler;
  /** Called when the guard refuses a connection (the socket is destroyed). */
  readonly onRefused: (remote: HostPort) => void;
}

export abstract class StreamListener implements Listener {
  #info: ListenerInfo;
  #server: Server | undefined;
  protected readonly opts: StreamListenerOptions;
  readonly #conns = new Map<string, StreamConnection>();
  /** Connection per remote address, for reuse when sending requests there. */
  readonly #byRemote = new Map<string, StreamConnection>();

  constructor(transport: TransportName, opts: StreamListenerOptions) {
    this.opts = opts;
    this.#info = { index: opts.index, transport, local: opts.spec, advertised: opts.advertise(opts.spec.port) };
  }

  get info(): ListenerInfo {
    return this.#info;
  }

  get connections(): number {
    return this.#conns.size;
  }

  protected abstract createServer(onSocket: (socket: Socket) => void): Server;
  protected abstract connect(remote: HostPort): Socket;

  start(): Promise<void> {
    const server = this.createServer((socket) => this.#accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.opts.spec.port, host: this.opts.spec.host, ipv6Only: this.opts.spec.host.includes(':') }, () => {
        server.off('error', reject);
        const addr = server.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : this.opts.spec.port;
        this.#info = {
          index: this.opts.index,
          transport: this.#info.transport,
          local: { host: this.opts.spec.host, port },
          advertised: this.opts.advertise(port),
        };
        this.#server = server;
        resolve();
      });
    });
  }

  #accept(socket: Socket): void {
    const remote = { host: plainHost(socket.remoteAddress ?? '0.0.0.0'), port: socket.remotePort ?? 0 };
    socket.on('error', () => undefined);
    if (!this.opts.guard.tryAcquire(remote.host)) {
      this.opts.onRefused(remote);
      socket.destroy();
      return;
    }
    this.#adopt(socket, remote);
  }

  #adopt(socket: Socket, remote: HostPort): StreamConnection {
    const id = this.opts.ids.next(this.#info.transport, this.#info.index);
    const key = formatHostPort(remote);
    const conn = new StreamConnection(id, this.#info.transport, this.#info, socket, remote, this.opts.limits, {
      onMessage: this.opts.onMessage,
      onFramingError: this.opts.onFramingError,
      onClose: (flow, reason, detail) => {
        this.#conns.delete(id);
        if (this.#byRemote.get(key) === conn) this.#byRemote.delete(key);
        this.opts.guard.release(remote.host);
        this.opts.onClose(flow, reason, detail);
      },
    });
    this.#conns.set(id, conn);
    if (!this.#byRemote.has(key)) this.#byRemote.set(key, conn);
    this.opts.onOpen(conn);
    return conn;
  }

  /** An open connection of this listener by flow id. */
  flow(id: string): Flow | undefined {
    return this.#conns.get(id);
  }

  flowTo(remote: HostPort): Flow | undefined {
    const existing = this.#byRemote.get(formatHostPort(remote));
    if (existing !== undefined && !existing.closed) return existing;
    if (this.#server === undefined) return undefined;
    if (!this.opts.guard.tryAcquire(remote.host)) {
      this.opts.onRefused(remote);
      return undefined;
    }
    const socket = this.connect(remote);
    socket.on('error', () => undefined);
    return this.#adopt(socket, remote);
  }

  close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const conn of [...this.#conns.values()]) conn.destroy('shutdown', 'transport stopping');
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /** Closes connections gracefully (after pending writes), used when draining. */
  endAll(detail: string): void {
    for (const conn of this.#conns.values()) conn.end('shutdown', detail);
  }
}
