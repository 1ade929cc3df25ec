/** Operations HTTP server: /healthz (alive), /readyz (NATS connected, not draining), /metrics. */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface OpsState {
  readonly ready: () => { ready: boolean; reason: string };
  readonly registry: Registry;
}

export function createOpsServer(state: OpsState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const r = state.ready();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${r.reason}\n`);
      return;
    }
    if (path === '/metrics') {
      state.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': state.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
}

/** Listens on `host:port` (port 0: a free one) and resolves with the bound port. */
export function listenOps(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}
