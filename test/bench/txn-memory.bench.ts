/**
 * Transaction-layer memory benchmark: what the transport keeps per completed UDP non-INVITE server
 * transaction during Timer J (32 s), measured without the network or other processes, so that the
 * figures move little with the load of the machine.
 *
 * OPTIONS requests as SIPp sends them are parsed by the codec, each opens a server transaction,
 * and a 200 OK (parsed and serialized, as the out path does) completes it. Two modes:
 *
 *   burst (default): `--n` transactions at once, shorter than Timer J (nothing expires).
 *   paced: `--rate` transactions per second for `--seconds` on the real clock; beyond 32 s the
 *     table is in its steady state (rate × 32 s rows, as many expiring as completing).
 *
 * Printed: heap and external bytes after a full GC, per open transaction; the GC pauses during
 * the run (node:perf_hooks 'gc' entries); in paced mode also the event-loop delay (what a message
 * arriving at that moment would wait).
 *
 *   node --expose-gc --import tsx test/bench/txn-memory.bench.ts [--n 100000]
 *   node --expose-gc --import tsx test/bench/txn-memory.bench.ts --rate 5000 --seconds 45
 *        [--layer <built txn/index.js>]
 *
 * `--layer` runs another build of the layer (e.g. a copy of services/transport/dist in
 * services/transport/node_modules/.bench-x) to compare two versions. Build first: `pnpm -s build`.
 */
import { PerformanceObserver, constants, monitorEventLoopDelay, type PerformanceEntry } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { parseMessage, serializeMessage } from '@sipnats/sip-codec';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Layer {
  receiveRequest(req: unknown, flow: unknown): { kind: string; txn?: { id: string } };
  respond(id: string, res: unknown, bytes: Uint8Array): string;
  size(): { server: number };
  close(): void;
}

interface LayerModule {
  TransactionLayer: new (o: unknown) => Layer;
  systemClock: unknown;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function options(i: number): Buffer {
  return Buffer.from(
    [
      'OPTIONS sip:service@127.0.0.1:5060 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-${i}-0;rport=5061;received=127.0.0.1`,
      `From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag00${i}`,
      'To: <sip:service@127.0.0.1:5060>',
      `Call-ID: ${i}-4242@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Accept: application/sdp',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

function ok200(i: number): Buffer {
  return Buffer.from(
    [
      'SIP/2.0 200 OK',
      `Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-${i}-0;rport=5061;received=127.0.0.1`,
      `From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag00${i}`,
      'To: <sip:service@127.0.0.1:5060>;tag=bench',
      `Call-ID: ${i}-4242@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Contact: <sip:127.0.0.1:5060;transport=udp>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

const FLOW = { id: 'udp:0:127.0.0.1:5061', reliable: false };

/** One transaction: request in, 200 OK out (the 200 completes it). */
function transaction(layer: Layer, i: number): void {
  const r = layer.receiveRequest(parseMessage(options(i), { transport: 'datagram' }), FLOW);
  if (r.kind !== 'new' || r.txn === undefined) throw new Error(`request ${i}: ${r.kind}`);
  const res = parseMessage(ok200(i), { transport: 'datagram' });
  if (layer.respond(r.txn.id, res, serializeMessage(res)) !== 'sent') throw new Error(`response ${i} not sent`);
}

/** Collects GC pauses while observing. */
function gcPauses(): { start(): void; stop(): Promise<string> } {
  const pauses: { minor: boolean; ms: number }[] = [];
  const take = (entries: PerformanceEntry[]): void => {
    for (const e of entries as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      pauses.push({ minor: e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR, ms: e.duration });
    }
  };
  const obs = new PerformanceObserver((list) => take(list.getEntries()));
  const part = (minor: boolean): string => {
    const ps = pauses.filter((p) => p.minor === minor);
    const over = (t: number): number => ps.filter((p) => p.ms > t).length;
    return `${ps.length} (total ${ps.reduce((s, p) => s + p.ms, 0).toFixed(0)} ms, max ${ps.reduce((s, p) => Math.max(s, p.ms), 0).toFixed(1)} ms, >5 ms ${over(5)}, >10 ms ${over(10)})`;
  };
  return {
    start: () => obs.observe({ entryTypes: ['gc'] }),
    async stop() {
      await new Promise((r) => setTimeout(r, 50)); // deliver the last entries
      take(obs.takeRecords());
      obs.disconnect();
      return `GC during the run: scavenges ${part(true)}; mark-compact and others ${part(false)}`;
    },
  };
}

/** Transactions at `rate`/s for `seconds` on the real clock, in 1 ms ticks. */
async function paced(layer: Layer, rate: number, seconds: number): Promise<string> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  let done = 0;
  await new Promise<void>((resolveRun) => {
    const tick = (): void => {
      const elapsed = performance.now() - started;
      const due = Math.min(Math.floor((elapsed * rate) / 1000), rate * seconds);
      while (done < due) transaction(layer, done++);
      if (done >= rate * seconds) resolveRun();
      else setTimeout(tick, 1);
    };
    tick();
  });
  delay.disable();
  const ms = (v: number): string => (v / 1e6).toFixed(1);
  return `event-loop delay: p50 ${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, p99.9 ${ms(delay.percentile(99.9))} ms, max ${ms(delay.max)} ms`;
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const rate = Number(arg('--rate', '0'));
  const seconds = Number(arg('--seconds', '45'));
  const n = rate > 0 ? rate * seconds : Number(arg('--n', '100000'));
  const path = resolve(ROOT, arg('--layer', 'services/transport/dist/txn/index.js'));
  const mod = (await import(pathToFileURL(path).href)) as LayerModule;
  let sent = 0;
  const layer = new mod.TransactionLayer({
    clock: mod.systemClock,
    send: () => void (sent += 1),
    limits: { maxServerTxns: n + 10_000, maxClientTxns: 1 },
    onEvent: () => undefined,
  });

  // Warm the JIT and the tables, then start from a collected heap.
  for (let i = 0; i < 2000; i++) transaction(layer, -i - 1);
  gc();
  gc();
  const before = process.memoryUsage();
  const open0 = layer.size().server;
  const gcs = gcPauses();
  gcs.start();
  const started = performance.now();
  const loop = rate > 0 ? await paced(layer, rate, seconds) : (Array.from({ length: n }, (_, i) => transaction(layer, i)), undefined);
  const elapsed = performance.now() - started;
  const gcText = await gcs.stop();
  gc();
  gc();
  const after = process.memoryUsage();
  const open = layer.size().server;
  // The latest one is still answered from what was kept.
  const again = layer.receiveRequest(parseMessage(options(n - 1), { transport: 'datagram' }), FLOW);
  const per = (a: number, b: number): string => (open === open0 ? 'n/a' : ((a - b) / (open - open0)).toFixed(0));
  process.stdout.write(`layer: ${path}\n`);
  process.stdout.write(
    `${n} transactions in ${(elapsed / 1000).toFixed(1)} s${rate > 0 ? ` (${rate}/s)` : ''}; open at the end: ${open} (${open0} before); retransmission of the last: ${again.kind}; sends ${sent}\n`,
  );
  process.stdout.write(`heap used after full GC: ${(before.heapUsed / 1048576).toFixed(1)} → ${(after.heapUsed / 1048576).toFixed(1)} MB, ${per(after.heapUsed, before.heapUsed)} B per open transaction\n`);
  process.stdout.write(`external (buffers): ${(before.external / 1048576).toFixed(1)} → ${(after.external / 1048576).toFixed(1)} MB, ${per(after.external, before.external)} B per open transaction\n`);
  process.stdout.write(`${gcText}\n`);
  if (loop !== undefined) process.stdout.write(`${loop}\n`);
  layer.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
