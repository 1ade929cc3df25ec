/** Free loopback ports for a local cluster: TCP only, or the same number free for TCP and UDP. */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function tcpPort(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

export class NoFreePortError extends Error {
  readonly code = 'SIPNATS_ERR_NO_FREE_PORT';
}

/**
 * Hands out distinct free ports on one host. A port is probed and released, so another process may
 * still take it before the caller binds; handing each number out once keeps a cluster's own parts
 * from colliding.
 */
export class PortAllocator {
  readonly #given = new Set<number>();

  constructor(readonly host = '127.0.0.1') {}

  /** A free TCP port; with `udp` also free for UDP on the same number (SIP listens on both). */
  async next(o: { udp?: boolean } = {}): Promise<number> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = await tcpPort(this.host, 0);
      if (port === undefined || this.#given.has(port)) continue;
      if (o.udp === true && !(await udpFree(this.host, port))) continue;
      this.#given.add(port);
      return port;
    }
    throw new NoFreePortError(`no free port on ${this.host}`);
  }
}
