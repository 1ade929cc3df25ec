/**
 * Operations HTTP server of a service: `/healthz` (the process is alive), `/readyz` (200 or 503
 * with the reason, from the service's own readiness rule: NATS connected, not draining, ...),
 * `/metrics` (Prometheus text from the registry). GET and HEAD only; anything else is 405, an
 * unknown path 404. No dependency on prom-client: any registry with `metrics()` and
 * `contentType` will do.
 */
import { createServer, type Server } from 'node:http';

/** What `/readyz` answers: ready or not, and why (the response body). */
export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
}

/** The part of a prom-client `Registry` the endpoint uses. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface OpsState {
  readonly ready: () => Readiness;
  readonly registry: MetricsSource;
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
      let r: Readiness;
      try {
        r = state.ready();
      } catch (err) {
        r = { ready: false, reason: `readiness check failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${r.reason}\n`);
      return;
    }
    if (path === '/metrics') {
      state.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': state.registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
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

/** Stops listening and ends idle keep-alive connections; resolves when the server is closed. */
export function closeOps(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
