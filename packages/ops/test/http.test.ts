import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { closeOps, createOpsServer, listenOps, type Readiness } from '../src/index.js';

describe('ops HTTP endpoint: /healthz, /readyz, /metrics', function () {
  let server: Server;
  let base: string;
  let readiness: Readiness | Error = { ready: true, reason: 'ready' };
  let metrics: Promise<string> | undefined;

  before(async function () {
    server = createOpsServer({
      ready: () => {
        if (readiness instanceof Error) throw readiness;
        return readiness;
      },
      registry: { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: () => metrics ?? Promise.resolve('up 1\n') },
    });
    const port = await listenOps(server, '127.0.0.1', 0);
    assert.ok(port > 0, 'port 0 gives the bound port');
    base = `http://127.0.0.1:${port}`;
  });

  after(async function () {
    await closeOps(server);
  });

  async function get(path: string, method = 'GET'): Promise<{ status: number; body: string; type: string | null; allow: string | null }> {
    const res = await fetch(base + path, { method });
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type'), allow: res.headers.get('allow') };
  }

  it('/healthz answers 200 ok', async function () {
    assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok\n', type: 'text/plain', allow: null });
  });

  it('/readyz follows the readiness rule, with the reason as body; a throwing rule is not ready', async function () {
    readiness = { ready: true, reason: 'ready' };
    assert.equal((await get('/readyz')).status, 200);
    readiness = { ready: false, reason: 'draining' };
    const r = await get('/readyz?verbose');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'draining\n');
    readiness = new Error('kv gone');
    const t = await get('/readyz');
    assert.equal(t.status, 503);
    assert.match(t.body, /kv gone/);
    readiness = { ready: true, reason: 'ready' };
  });

  it('/metrics serves the registry text with its content type; a failing registry gives 500', async function () {
    metrics = Promise.resolve('sipnats_up 1\n');
    const r = await get('/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'sipnats_up 1\n');
    assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
    metrics = Promise.reject(new Error('collect failed'));
    metrics.catch(() => undefined);
    assert.equal((await get('/metrics')).status, 500);
    metrics = undefined;
  });

  it('HEAD is allowed, other methods get 405 with Allow, unknown paths 404', async function () {
    assert.equal((await get('/healthz', 'HEAD')).status, 200);
    const post = await get('/healthz', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.allow, 'GET, HEAD');
    assert.equal((await get('/nope')).status, 404);
  });

  it('closeOps resolves for a server that never listened', async function () {
    await closeOps(createOpsServer({ ready: () => ({ ready: true, reason: 'ready' }), registry: { contentType: 'text/plain', metrics: async () => '' } }));
  });
});
