/**
 * deploy/grafana/sipnats.json: every query references metrics that a running transport and ua
 * actually export (scraped from /metrics after real SIPp traffic), with labels those metrics carry.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, decodeJson } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { runSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const dashboardFile = fileURLToPath(new URL('../../deploy/grafana/sipnats.json', import.meta.url));
const ANSWER_SDP = 'v=0\r\no=ctl 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';
/** Labels that Prometheus adds when scraping, or that every histogram bucket has. */
const SCRAPE_LABELS = new Set(['instance', 'job', 'pod', 'namespace', 'le']);

interface Exported {
  /** Every sample name (histograms: _bucket, _sum, _count). */
  readonly names: Set<string>;
  /** Label names seen on samples of each name. */
  readonly labels: Map<string, Set<string>>;
}

/** Reads the Prometheus text format: names from # TYPE lines, labels from samples. */
export function readExposition(text: string, into: Exported): void {
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type !== null) {
      const [, name = '', kind] = type;
      into.names.add(name);
      if (kind === 'histogram' || kind === 'summary') for (const s of ['_bucket', '_sum', '_count']) into.names.add(name + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s/.exec(line);
    if (sample === null) continue;
    const [, name = '', labels = ''] = sample;
    const set = into.labels.get(name) ?? new Set<string>();
    for (const m of labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(m[1] ?? '');
    into.labels.set(name, set);
  }
}

interface Query {
  readonly panel: string;
  readonly expr: string;
}

function dashboardQueries(): Query[] {
  const dash = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
  return dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

describe('Grafana dashboard against the metrics the services export', function () {
  this.timeout(90_000);
  let nats: NatsServer;
  let transport: TransportProcess;
  let ua: UaProcess;
  let nc: NatsConnection;
  const exported: Exported = { names: new Set(), labels: new Map() };

  before(async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-dash', transports: ['udp'] });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-dash', env: { SIPNATS_AUTH_REQUIRED: 'false' } });
    nc = await connect({ servers: nats.url });
    const offers = nc.subscribe('sip.evt.call.offer');
    void (async () => {
      for await (const m of offers) {
        const r = decodeJson(CallEvent, m.data);
        if (!r.ok) continue;
        await nc.request('sip.cmd.call.answer', JSON.stringify({ v: 1, call: r.value.call, action: 'answer', sdp: ANSWER_SDP }), { timeout: 5000 }).catch(() => undefined);
      }
    })();
    await nc.flush();
    const remote = `127.0.0.1:${transport.ports['udp']}`;
    assert.equal((await runSipp({ scenario: 'uac-options.xml', remote, calls: 2, timeoutMs: 15_000 })).code, 0);
    assert.equal((await runSipp({ scenario: 'uac-call.xml', remote, calls: 2, timeoutMs: 20_000 })).code, 0);
    for (const svc of [transport, ua]) {
      const res = await svc.http('/metrics');
      assert.equal(res.status, 200);
      readExposition(res.body, exported);
    }
  });

  after(async () => {
    await nc?.close();
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
  });

  it('has queries for transport and ua metrics', () => {
    const exprs = dashboardQueries().map((q) => q.expr).join('\n');
    assert.match(exprs, /sipnats_transport_/);
    assert.match(exprs, /sipnats_ua_/);
  });

  it('every metric a query names is exported by a running transport or ua', () => {
    const missing: string[] = [];
    for (const q of dashboardQueries()) {
      for (const [name] of q.expr.matchAll(/\bsipnats_[a-z0-9_]+/g)) if (!exported.names.has(name)) missing.push(`${q.panel}: ${name}`);
    }
    assert.deepEqual(missing, []);
  });

  it('every label a query filters or groups by exists on the metrics it queries (where samples exist)', () => {
    const problems: string[] = [];
    for (const q of dashboardQueries()) {
      const names = [...q.expr.matchAll(/\bsipnats_[a-z0-9_]+/g)].map((m) => m[0]);
      const known = (name: string): Set<string> | undefined => exported.labels.get(name);
      for (const m of q.expr.matchAll(/(sipnats_[a-z0-9_]+)\{([^}]*)\}/g)) {
        const labels = known(m[1] ?? '');
        if (labels === undefined) continue;
        for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!=|!~|=)/g)) {
          const label = l[1] ?? '';
          if (!SCRAPE_LABELS.has(label) && !labels.has(label)) problems.push(`${q.panel}: ${m[1]} has no label ${label}`);
        }
      }
      for (const by of q.expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
        for (const label of (by[1] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '' && !SCRAPE_LABELS.has(s))) {
          const withSamples = names.map(known).filter((s): s is Set<string> => s !== undefined);
          if (withSamples.length > 0 && !withSamples.some((s) => s.has(label))) problems.push(`${q.panel}: no queried metric has label ${label}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
