/**
 * UDP listener (RFC 3261 §18): one socket, one datagram is one message. Flows are the
 * (listener, remote address) pair; sends never block (the kernel drops when its buffer is full).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { HostPort, ListenSpec } from './address.js';
import { plainHost } from './address.js';
import type { Flow, InboundHandler, Listener, ListenerInfo } from './flow.js';
import { udpFlowId } from './flow-ids.js';

export interface UdpListenerOptions {
  readonly spec: ListenSpec;
  readonly index: number;
  readonly advertise: (boundPort: number) => HostPort;
  readonly onMessage: InboundHandler;
  /** Datagrams larger than this are dropped unread (counted by onOversize). */
  readonly maxMessageBytes: number;
  readonly onOversize: (remote: HostPort, bytes: number) => void;
  readonly onSendError: (error: Error) => void;
}

class UdpFlow implements Flow {
  readonly transport = 'udp' as const;
  readonly reliable = false;
  readonly id: string;
  readonly listener: ListenerInfo;
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly #socket: () => Socket | undefined;
  readonly #onError: (error: Error) => void;

  constructor(listener: ListenerInfo, remote: HostPort, socket: () => Socket | undefined, onError: (e: Error) => void) {
    this.listener = listener;
    this.local = listener.local;
    this.remote = remote;
    this.id = udpFlowId(listener.index, remote);
    this.#socket = socket;
    this.#onError = onError;
  }

  get closed(): boolean {
    return this.#socket() === undefined;
  }

  send(data: Uint8Array): boolean {
    const socket = this.#socket();
    if (socket === undefined) return false;
    socket.send(data, this.remote.port, this.remote.host, (err) => {
      if (err !== null && err !== undefined) this.#onError(err);
    });
    return true;
  }
}

export class UdpListener implements Listener {
  #info: ListenerInfo;
  #socket: Socket | undefined;
  readonly #opts: UdpListenerOptions;
  readonly #family: 4 | 6;

  constructor(opts: UdpListenerOptions) {
    this.#opts = opts;
    this.#family = isIP(opts.spec.host) === 6 ? 6 : 4;
    this.#info = { index: opts.index, transport: 'udp', local: opts.spec, advertised: opts.advertise(opts.spec.port) };
  }

  get info(): ListenerInfo {
    return this.#info;
  }

  get connections(): number {
    return 0;
  }

  start(): Promise<void> {
    const socket = createSocket({ type: this.#family === 6 ? 'udp6' : 'udp4', ipv6Only: this.#family === 6 });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#opts.spec.port, this.#opts.spec.host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.#opts.onSendError(err));
        const port = socket.address().port;
        this.#info = {
          index: this.#opts.index,
          transport: 'udp',
          local: { host: this.#opts.spec.host, port },
          advertised: this.#opts.advertise(port),
        };
        this.#socket = socket;
        socket.on('message', (msg, rinfo) => this.#onDatagram(msg, rinfo.address, rinfo.port));
        resolve();
      });
    });
  }

  #onDatagram(msg: Buffer, address: string, port: number): void {
    const remote = { host: plainHost(address), port };
    if (msg.length > this.#opts.maxMessageBytes) {
      this.#opts.onOversize(remote, msg.length);
      return;
    }
    this.#opts.onMessage(msg, this.flowTo(remote), Date.now());
  }

  flowTo(remote: HostPort): Flow {
    return new UdpFlow(this.#info, remote, () => this.#socket, this.#opts.onSendError);
  }

  /** True when this listener's socket can send to an address of this family. */
  canReach(host: string): boolean {
    return (isIP(host) === 6 ? 6 : 4) === this.#family;
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
