/**
 * A small layer-4 UDP load balancer on loopback, as a real one in front of transport instances:
 * each client source (ip:port) is pinned to one healthy backend (sticky sessions); datagrams from
 * the client go to that backend from a per-session upstream socket, datagrams from the backend go
 * back to the client from the front socket. A backend is marked down when a datagram to it is
 * refused (ICMP port unreachable → ECONNREFUSED on the connected upstream socket) or its health
 * URL stops answering 200; the next datagram of a session on a down backend moves the session to
 * a healthy one. Sessions are bounded and expire when idle.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface UdpBackend {
  readonly host: string;
  readonly port: number;
  /** Polled every `healthIntervalMs`; anything but 200 (or no answer) marks the backend down. */
  readonly healthUrl?: string;
}

export interface UdpBalancerOptions {
  readonly host?: string;
  /** Front port (default: a free one). */
  readonly port?: number;
  readonly healthIntervalMs?: number;
  readonly idleMs?: number;
  readonly maxSessions?: number;
}

export interface UdpBalancerStats {
  /** Client → backend datagrams sent. */
  forwarded: number;
  /** Backend → client datagrams relayed. */
  relayed: number;
  /** Sessions moved from a down backend to another. */
  failovers: number;
  /** Datagrams dropped: no healthy backend, or the session table was full. */
  dropped: number;
  /** Times a backend was marked down. */
  downs: number;
}

interface Session {
  readonly client: { address: string; port: number };
  backend: number;
  upstream: Socket;
  /** Datagrams waiting for the upstream socket to connect (bounded). */
  pending: Buffer[] | undefined;
  lastSeen: number;
}

const MAX_PENDING = 64;

export class UdpBalancer {
  readonly stats: UdpBalancerStats = { forwarded: 0, relayed: 0, failovers: 0, dropped: 0, downs: 0 };
  readonly #front: Socket;
  readonly #sessions = new Map<string, Session>();
  #backends: UdpBackend[] = [];
  #up: boolean[] = [];
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #ticking = false;

  private constructor(
    front: Socket,
    readonly host: string,
    readonly port: number,
    readonly o: UdpBalancerOptions,
  ) {
    this.#front = front;
    front.on('message', (data, rinfo) => this.#fromClient(data, rinfo));
    front.on('error', () => undefined);
    this.#timer = setInterval(() => void this.#tick(), o.healthIntervalMs ?? 200);
  }

  static async start(o: UdpBalancerOptions = {}): Promise<UdpBalancer> {
    const host = o.host ?? '127.0.0.1';
    const front = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(o.port ?? 0, host, () => {
        front.off('error', reject);
        resolve();
      });
    });
    return new UdpBalancer(front, host, front.address().port, o);
  }

  /** Sets the backends (all considered up until proven down). */
  setBackends(backends: readonly UdpBackend[]): void {
    this.#backends = [...backends];
    this.#up = backends.map(() => true);
  }

  /** Index of the backend a client source is pinned to, if it has a session. */
  backendOf(client: { address: string; port: number }): number | undefined {
    return this.#sessions.get(`${client.address}:${client.port}`)?.backend;
  }

  isUp(index: number): boolean {
    return this.#up[index] === true;
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const s of this.#sessions.values()) s.upstream.close();
    this.#sessions.clear();
    await new Promise<void>((resolve) => this.#front.close(() => resolve()));
  }

  #markDown(index: number): void {
    if (this.#up[index] !== true) return;
    this.#up[index] = false;
    this.stats.downs++;
  }

  #pick(): number | undefined {
    const n = this.#backends.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.#next + i) % n;
      if (this.#up[idx] === true) {
        this.#next = (idx + 1) % n;
        return idx;
      }
    }
    return undefined;
  }

  #open(client: { address: string; port: number }, backend: number, session?: { pending: Buffer[] | undefined }): Socket {
    const b = this.#backends[backend] as UdpBackend;
    const upstream = createSocket(b.host.includes(':') ? 'udp6' : 'udp4');
    upstream.on('message', (data) => {
      this.stats.relayed++;
      this.#front.send(data, client.port, client.address);
    });
    // A connected UDP socket reports the ICMP port-unreachable of a closed backend port.
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') this.#markDown(backend);
    });
    upstream.connect(b.port, b.host, () => {
      const waiting = session?.pending ?? [];
      if (session !== undefined) session.pending = undefined;
      for (const d of waiting) this.#send(upstream, backend, d);
    });
    return upstream;
  }

  #fromClient(data: Buffer, rinfo: { address: string; port: number }): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    let s = this.#sessions.get(key);
    if (s !== undefined && this.#up[s.backend] !== true) {
      const to = this.#pick();
      if (to === undefined) {
        this.stats.dropped++;
        return;
      }
      s.upstream.close();
      s.backend = to;
      s.pending = [];
      s.upstream = this.#open(s.client, to, s);
      this.stats.failovers++;
    }
    if (s === undefined) {
      const to = this.#pick();
      if (to === undefined || this.#sessions.size >= (this.o.maxSessions ?? 10_000)) {
        this.stats.dropped++;
        return;
      }
      const client = { address: rinfo.address, port: rinfo.port };
      const created: Session = { client, backend: to, upstream: undefined as unknown as Socket, pending: [], lastSeen: 0 };
      created.upstream = this.#open(client, to, created);
      s = created;
      this.#sessions.set(key, s);
    }
    s.lastSeen = Date.now();
    if (s.pending !== undefined) {
      if (s.pending.length < MAX_PENDING) s.pending.push(data);
      else this.stats.dropped++;
      return;
    }
    this.#send(s.upstream, s.backend, data);
  }

  #send(upstream: Socket, backend: number, data: Buffer): void {
    upstream.send(data, (err) => {
      if (err === null || err === undefined) this.stats.forwarded++;
      else if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') this.#markDown(backend);
    });
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      await this.#check();
    } finally {
      this.#ticking = false;
    }
  }

  async #check(): Promise<void> {
    const now = Date.now();
    for (const [key, s] of this.#sessions) {
      if (now - s.lastSeen > (this.o.idleMs ?? 60_000)) {
        s.upstream.close();
        this.#sessions.delete(key);
      }
    }
    await Promise.all(
      this.#backends.map(async (b, i) => {
        if (b.healthUrl === undefined) return;
        let ok = false;
        try {
          const res = await fetch(b.healthUrl, { signal: AbortSignal.timeout(500) });
          ok = res.status === 200;
          await res.arrayBuffer();
        } catch {
          ok = false;
        }
        if (this.#closed) return;
        if (!ok) this.#markDown(i);
        else this.#up[i] = true;
      }),
    );
  }
}
