/**
 * UDP listener (RFC 3261 §18): one socket, one datagram is one message. Flows are the
 * (listener, remote address) pair; sends never block (the kernel drops when its buffer is full).
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
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
  /** SO_RCVBUF / SO_SNDBUF asked for the socket (the kernel may cap it). */
  readonly socketBufferBytes?: number;
  readonly onOversize: (remote: HostPort, bytes: number) => void;
  readonly onSendError: (error: Error) => void;
}

/** What a flow needs of its listener: the socket (undefined once closed) and the send callback. */
interface UdpOwner {
  readonly socket: Socket | undefined;
  readonly afterSend: (err: Error | null) => void;
}

class UdpFlow implements Flow {
  readonly transport = 'udp' as const;
  readonly reliable = false;
  readonly id: string;
  readonly listener: ListenerInfo;
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly #owner: UdpOwner;

  constructor(listener: ListenerInfo, remote: HostPort, owner: UdpOwner) {
    this.listener = listener;
    this.local = listener.local;
    this.remote = remote;
    this.id = udpFlowId(listener.index, remote);
    this.#owner = owner;
  }

  get closed(): boolean {
    return this.#owner.socket === undefined;
  }

  send(data: Uint8Array): boolean {
    const socket = this.#owner.socket;
    if (socket === undefined) return false;
    // One callback per listener, not a closure per datagram.
    socket.send(data, this.remote.port, this.remote.host, this.#owner.afterSend);
    return true;
  }
}

/**
 * The socket's address lookup. Flows carry IP addresses (the datagram's source, or a next hop
 * resolved before: next-hop.ts), which are answered at once: dns.lookup answers an IP literal on
 * the next tick, so every datagram sent would wait for (and pay) one more turn of the tick queue.
 * A name still goes to dns.lookup.
 */
function literalLookup(hostname: string, options: LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options, callback);
}

/** Flow objects kept per remote address (bounded: keyed by remote input). */
const FLOW_CACHE = 4096;

export class UdpListener implements Listener, UdpOwner {
  #info: ListenerInfo;
  #socket: Socket | undefined;
  readonly #opts: UdpListenerOptions;
  readonly #family: 4 | 6;
  /** Datagrams of one peer share one flow object (fewer objects kept by transactions). */
  readonly #flows = new Map<string, UdpFlow>();
  readonly afterSend = (err: Error | null): void => {
    if (err !== null && err !== undefined) this.#opts.onSendError(err);
  };

  /** The bound socket; undefined before start and after close. */
  get socket(): Socket | undefined {
    return this.#socket;
  }

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
    const buffers = this.#opts.socketBufferBytes === undefined ? {} : { recvBufferSize: this.#opts.socketBufferBytes, sendBufferSize: this.#opts.socketBufferBytes };
    const socket = createSocket({ type: this.#family === 6 ? 'udp6' : 'udp4', ipv6Only: this.#family === 6, lookup: literalLookup, ...buffers });
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
        this.#flows.clear(); // flows made before the bind carry the old listener info
        this.#socket = socket;
        socket.on('message', (msg, rinfo) => this.#onDatagram(msg, rinfo.address, rinfo.port));
        resolve();
      });
    });
  }

  #onDatagram(msg: Buffer, address: string, port: number): void {
    if (msg.length > this.#opts.maxMessageBytes) {
      this.#opts.onOversize({ host: plainHost(address), port }, msg.length);
      return;
    }
    this.#opts.onMessage(msg, this.#flowFor(address, port), Date.now());
  }

  #flowFor(address: string, port: number): UdpFlow {
    const key = `${address} ${port}`;
    let flow = this.#flows.get(key);
    if (flow === undefined) {
      flow = new UdpFlow(this.#info, { host: plainHost(address), port }, this);
      if (this.#flows.size >= FLOW_CACHE) this.#flows.clear();
      this.#flows.set(key, flow);
    }
    return flow;
  }

  flowTo(remote: HostPort): Flow {
    return this.#flowFor(remote.host, remote.port);
  }

  /** True when this listener's socket can send to an address of this family. */
  canReach(host: string): boolean {
    return (isIP(host) === 6 ? 6 : 4) === this.#family;
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#flows.clear();
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
