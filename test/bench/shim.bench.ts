/**
 * C shim benchmark: libsipnats (C, on libnats) beside the Node client (nats.js v3) against the same
 * private nats-server, started here on a free port. Run with `pnpm bench:shim`.
 *
 * - events: a publisher floods `sip.evt.call.offer` with a ~600-byte CallEvent JSON; the rate is
 *   callbacks per second over a fixed number of messages, from the first publish to the last
 *   callback. The publisher stays at most WINDOW messages ahead of the callbacks, so no message is
 *   dropped as a slow consumer and every one is counted.
 * - request/reply: sequential round trips through `sipnats_client_request` (C) or `nc.request`
 *   (Node) against a responder of the same stack that echoes the 64-byte request. The C rows show
 *   libnats's default batching of the reply and `sipnats_options_set_send_asap` (sent at once).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '../support/nats-server.js';

const shimDir = fileURLToPath(new URL('../../packages/fs-shim/', import.meta.url));
const EVENTS = 200_000;
const ROUND_TRIPS = 5_000;
const WINDOW = 10_000;
const RR_BYTES = 64;
const RR_SUBJECT = 'bench.node.rr';

interface Row {
  readonly client: string;
  readonly what: string;
  readonly count: number;
  readonly seconds: number;
}

function callEvent(i: number): string {
  return JSON.stringify({
    v: 1,
    event: 'offer',
    call: `c-${i.toString(16).padStart(16, '0')}`,
    dialog: 'd-7f3a9c1e4b2d4f6a',
    sipCallId: 'a84b4c76e66710@pc33.atlanta.example.com',
    direction: 'inbound',
    from: { uri: 'sip:alice@atlanta.example.com', tag: '1928301774', display: 'Alice' },
    to: { uri: 'sip:bob@biloxi.example.com' },
    at: '2024-05-01T12:00:00.000Z',
    instance: 'tr-1',
    headers: { 'User-Agent': 'Example SIP Phone 5.2.1' },
    sdp: [
      'v=0',
      'o=alice 2890844526 2890844526 IN IP4 192.0.2.101',
      's=Call',
      'c=IN IP4 192.0.2.101',
      't=0 0',
      'm=audio 49170 RTP/AVP 0 8 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=sendrecv',
      '',
    ].join('\r\n'),
  });
}

function runC(args: string[]): { count: number; seconds: number } {
  const out = execFileSync(join(shimDir, 'build', 'sipnats_bench'), args, { encoding: 'utf8' });
  const r = JSON.parse(out.trim()) as { count: number; seconds: number };
  return { count: r.count, seconds: r.seconds };
}

async function nodeEvents(url: string, payload: Uint8Array): Promise<{ count: number; seconds: number }> {
  const sub = await connect({ servers: url, name: 'bench-node-sub' });
  const pub = await connect({ servers: url, name: 'bench-node-pub' });
  let received = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  sub.subscribe('sip.evt.call.>', {
    callback: (err) => {
      if (err !== null) throw err;
      received += 1;
      if (received === EVENTS) done();
    },
  });
  await sub.flush();
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    while (i - received >= WINDOW) await new Promise((r) => setImmediate(r));
    pub.publish('sip.evt.call.offer', payload);
  }
  await pub.flush();
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await pub.drain();
  await sub.drain();
  return { count: EVENTS, seconds };
}

async function nodeRoundTrips(url: string): Promise<{ count: number; seconds: number }> {
  const responder = await connect({ servers: url, name: 'bench-node-responder' });
  const requester = await connect({ servers: url, name: 'bench-node-requester' });
  responder.subscribe(RR_SUBJECT, { callback: (_err, m) => void m.respond(m.data) });
  await responder.flush();
  const body = new Uint8Array(RR_BYTES).fill(0x78);
  const t0 = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const r = await requester.request(RR_SUBJECT, body, { timeout: 5000 });
    if (r.data.length !== RR_BYTES) throw new Error(`reply of ${r.data.length} bytes`);
  }
  const seconds = (performance.now() - t0) / 1000;
  await requester.drain();
  await responder.drain();
  return { count: ROUND_TRIPS, seconds };
}

function printTable(rows: readonly Row[], eventBytes: number): void {
  const head = ['client', 'measure', 'count', 'seconds', 'per second'];
  const lines = rows.map((r) => [r.client, r.what, String(r.count), r.seconds.toFixed(3), Math.round(r.count / r.seconds).toLocaleString('en-US')]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  console.log(`\nC shim vs Node client, same nats-server on loopback (event payload ${eventBytes} bytes, request ${RR_BYTES} bytes)\n`);
  console.log(fmt(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}

async function main(): Promise<void> {
  execFileSync('make', ['-s', '-C', shimDir, 'bench'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'sipnats-bench-'));
  const nats = await startNatsServer();
  try {
    const payload = Buffer.from(callEvent(1));
    const file = join(dir, 'call-event.json');
    writeFileSync(file, payload);
    const rows: Row[] = [];
    const c1 = runC(['events', nats.url, String(EVENTS), file, String(WINDOW)]);
    rows.push({ client: 'libsipnats (C)', what: 'events NATS → callback', ...c1 });
    const n1 = await nodeEvents(nats.url, payload);
    rows.push({ client: 'nats.js (Node)', what: 'events NATS → callback', ...n1 });
    const c2 = runC(['rr', nats.url, String(ROUND_TRIPS), String(RR_BYTES)]);
    rows.push({ client: 'libsipnats (C)', what: 'request/reply, batched reply', ...c2 });
    const c3 = runC(['rr-asap', nats.url, String(ROUND_TRIPS), String(RR_BYTES)]);
    rows.push({ client: 'libsipnats (C)', what: 'request/reply, send_asap', ...c3 });
    const n2 = await nodeRoundTrips(nats.url);
    rows.push({ client: 'nats.js (Node)', what: 'request/reply', ...n2 });
    printTable(rows, payload.length);
  } finally {
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
