/**
 * Transaction-layer memory benchmark: what the transport keeps per completed UDP non-INVITE server
 * transaction during Timer J (32 s), measured without the network or other processes, so that the
 * figures do not move with the load of the machine.
 *
 * N OPTIONS requests as SIPp sends them are parsed by the codec, each opens a server transaction,
 * and a 200 OK (parsed and serialized, as the out path does) completes it; nothing expires (the
 * run is shorter than Timer J). Printed: heap and external bytes after a full GC, per transaction,
 * and the GC pauses seen during the run (node:perf_hooks 'gc' entries).
 *
 *   node --expose-gc --import tsx test/bench/txn-memory.bench.ts [--n 100000] [--layer <built txn/index.js>]
 *
 * `--layer` runs another build of the layer (e.g. a copy of services/transport/dist kept inside
 * services/transport) to compare two versions. Build first: `pnpm -s build`.
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { parseMessage, serializeMessage } from '@sipnats/sip-codec';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface LayerModule {
  TransactionLayer: new (o: unknown) => {
    receiveRequest(req: unknown, flow: unknown): { kind: string; txn?: { id: string } };
    respond(id: string, res: unknown, bytes: Uint8Array): string;
    size(): { server: number };
    close(): void;
  };
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

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const n = Number(arg('--n', '100000'));
  const path = resolve(ROOT, arg('--layer', 'services/transport/dist/txn/index.js'));
  const mod = (await import(pathToFileURL(path).href)) as LayerModule;
  const flow = { id: 'udp:0:127.0.0.1:5061', reliable: false };
  let sent = 0;
  const layer = new mod.TransactionLayer({
    clock: mod.systemClock,
    send: () => void (sent += 1),
    limits: { maxServerTxns: n + 10_000, maxClientTxns: 1 },
    onEvent: () => undefined,
  });

  const pauses: { kind: string; ms: number }[] = [];
  const take = (entries: PerformanceEntry[]): void => {
    for (const e of entries as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      pauses.push({ kind: e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'scavenge' : 'other', ms: e.duration });
    }
  };
  const obs = new PerformanceObserver((list) => take(list.getEntries()));
  // Warm the JIT and the tables, then start from a collected heap.
  for (let i = 0; i < 2000; i++) {
    const r = layer.receiveRequest(parseMessage(options(-i - 1), { transport: 'datagram' }), flow);
    if (r.txn !== undefined) {
      const res = parseMessage(ok200(-i - 1), { transport: 'datagram' });
      layer.respond(r.txn.id, res, serializeMessage(res));
    }
  }
  gc();
  gc();
  const before = process.memoryUsage();
  obs.observe({ entryTypes: ['gc'] });
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const r = layer.receiveRequest(parseMessage(options(i), { transport: 'datagram' }), flow);
    if (r.kind !== 'new' || r.txn === undefined) throw new Error(`request ${i}: ${r.kind}`);
    const res = parseMessage(ok200(i), { transport: 'datagram' });
    if (layer.respond(r.txn.id, res, serializeMessage(res)) !== 'sent') throw new Error(`response ${i} not sent`);
  }
  const elapsed = performance.now() - started;
  await new Promise((r) => setTimeout(r, 50)); // deliver the gc entries
  take(obs.takeRecords());
  obs.disconnect();
  gc();
  gc();
  const after = process.memoryUsage();
  // A retransmission of the first one is still answered from what was kept.
  const again = layer.receiveRequest(parseMessage(options(0), { transport: 'datagram' }), flow);
  const per = (a: number, b: number): string => ((a - b) / n).toFixed(0);
  const sum = (kind: string): string => {
    const ps = pauses.filter((p) => p.kind === kind);
    return `${ps.length} (total ${ps.reduce((s, p) => s + p.ms, 0).toFixed(0)} ms, max ${ps.reduce((s, p) => Math.max(s, p.ms), 0).toFixed(1)} ms)`;
  };
  process.stdout.write(`layer: ${path}\n`);
  process.stdout.write(`${n} completed UDP non-INVITE server transactions in ${elapsed.toFixed(0)} ms (open: ${layer.size().server}; retransmission: ${again.kind}, sends ${sent})\n`);
  process.stdout.write(`heap used after full GC: ${(before.heapUsed / 1048576).toFixed(1)} → ${(after.heapUsed / 1048576).toFixed(1)} MB, ${per(after.heapUsed, before.heapUsed)} B per transaction\n`);
  process.stdout.write(`external (buffers): ${(before.external / 1048576).toFixed(1)} → ${(after.external / 1048576).toFixed(1)} MB, ${per(after.external, before.external)} B per transaction\n`);
  process.stdout.write(`GC during the run: scavenges ${sum('scavenge')}; other ${sum('other')}\n`);
  layer.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
