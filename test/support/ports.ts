/** Free local ports for tests (TCP and UDP both free on the same number). */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function tcpFree(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, host, () => {
      const addr = s.address();
      const p = typeof addr === 'object' && addr !== null ? addr.port : undefined;
      s.close(() => resolve(p));
    });
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => resolve(false));
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/** A port free for both TCP and UDP on `host` (default 127.0.0.1). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tcpFree(host, 0);
    if (p !== undefined && (await udpFree(host, p))) return p;
  }
  throw new Error('no free port found');
}

/** `n` distinct free ports. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort(host));
  return [...out];
}
