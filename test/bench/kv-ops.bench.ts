/**
 * KV operation benchmark: the client cost of the ua's hot KV operations through
 *   nats.js   the nats.js KV client (@nats-io/kv: request() per operation, JetStream/KV layers);
 *   CoreKv    @sipnats/bus CoreKv (core NATS requests through one shared inbox, deadline sweep);
 *   KvRecords the ua's store layer over CoreKv (JSON, guard, retry budget, observer): what a
 *             call really pays per operation.
 * Each runs `--n` gets (of `--keys` keys) and `--n` compare-and-set updates (each worker updates
 * its own key, so none loses), `--concurrency` operations in flight, against one bucket of a
 * private nats-server (or `--server=nats://...`). Printed per path and operation: operations per
 * second, and this process's CPU (process.cpuUsage, user + system) in µs per operation, with the
 * kernel's part (system: socket reads and writes, the same for every client); with a private
 * server also the server's CPU per operation. Rounds alternate the paths and the median
 * is shown, since the machine is shared. It asserts nothing; it prints figures.
 *
 *   flock /tmp/bench.lock node --import tsx test/bench/kv-ops.bench.ts [--n=20000] [--concurrency=32]
 *        [--rounds=3] [--keys=100] [--value-bytes=800] [--storage=memory|file] [--server=nats://127.0.0.1:4222]
 *        [--paths=natsjs,corekv,records]
 */
import { connect } from '@nats-io/transport-node';
import { openCoreKv, RequestMux, type CoreKv } from '@sipnats/bus';
import { KvRecords } from '../../services/ua/src/store/kv-records.js';
import { cpuTicks, CLK_TCK, loadAverage, table } from '../support/bench.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N = Number(arg('n', '20000'));
const CONCURRENCY = Number(arg('concurrency', '32'));
const ROUNDS = Number(arg('rounds', '3'));
const KEYS = Number(arg('keys', '100'));
const VALUE_BYTES = Number(arg('value-bytes', '800'));
const STORAGE = arg('storage', 'memory') === 'file' ? 'file' : 'memory';
const SERVER = arg('server', '');
/** Which paths to run (e.g. one alone under --cpu-prof): natsjs, corekv, records. */
const PATHS = arg('paths', 'natsjs,corekv,records').split(',');
const BUCKET = 'bench_kv_ops';

type Value = { readonly pad: string; readonly n: number };
const isValue = (v: unknown): v is Value => typeof v === 'object' && v !== null && typeof (v as { n?: unknown }).n === 'number';
const value = (n: number): Value => ({ pad: 'x'.repeat(Math.max(0, VALUE_BYTES - 20)), n });
const encoded = (n: number): Uint8Array => new TextEncoder().encode(JSON.stringify(value(n)));
// The raw clients get ready-made bytes: only KvRecords pays for JSON, as it does in the ua.
const PAYLOADS = Array.from({ length: 16 }, (_, n) => encoded(n));
const bytes = (n: number): Uint8Array => PAYLOADS[n % PAYLOADS.length] ?? encoded(n);

/** The three clients, each as one get and one compare-and-set update. */
interface Path {
  readonly name: string;
  get(key: string): Promise<unknown>;
  update(key: string, n: number, revision: number): Promise<number>;
  /** Writes the key and returns its revision (set-up, not measured). */
  put(key: string, n: number): Promise<number>;
}

/** The get, update and put both raw clients (nats.js KV, CoreKv) have. */
interface RawKv {
  get(key: string): Promise<unknown>;
  update(key: string, data: Uint8Array, revision: number): Promise<number>;
  put(key: string, data: Uint8Array): Promise<number>;
}

/** A raw client as a Path: it gets ready-made bytes. */
function rawPath(name: string, kv: RawKv): Path {
  return {
    name,
    get: (key) => kv.get(key),
    update: (key, n, revision) => kv.update(key, bytes(n), revision),
    put: (key, n) => kv.put(key, bytes(n)),
  };
}

function recordsPath(kv: CoreKv): Path {
  const r = new KvRecords<Value>({ kv, bucket: BUCKET, guard: isValue, timeoutMs: 2000, observe: () => undefined });
  return {
    name: 'KvRecords (CoreKv)',
    get: (key) => r.get(key),
    update: async (key, n, revision) => {
      const rev = await r.update(key, value(n), revision);
      if (rev === undefined) throw new Error(`update of ${key} lost its compare-and-set`);
      return rev;
    },
    put: (key, n) => r.put(key, value(n)),
  };
}

interface Figures {
  readonly opsPerSec: number;
  readonly cpuUsPerOp: number;
  /** The kernel's part of it (socket writes and reads): about the same whatever the client. */
  readonly sysUsPerOp: number;
  readonly serverUsPerOp: number;
}

/** Runs `total` operations, `CONCURRENCY` at a time, and measures them. */
async function measure(total: number, serverPid: number | undefined, op: (worker: number, i: number) => Promise<void>): Promise<Figures> {
  const perWorker = Math.ceil(total / CONCURRENCY);
  (globalThis as { gc?: () => void }).gc?.();
  const server0 = serverPid === undefined ? 0 : cpuTicks(serverPid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = 0; i < perWorker; i++) await op(w, i);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const ops = perWorker * CONCURRENCY;
  const serverUs = serverPid === undefined ? Number.NaN : ((cpuTicks(serverPid) - server0) / CLK_TCK) * 1e6;
  return { opsPerSec: ops / seconds, cpuUsPerOp: (cpu.user + cpu.system) / ops, sysUsPerOp: cpu.system / ops, serverUsPerOp: serverUs / ops };
}

async function gets(path: Path, serverPid: number | undefined): Promise<Figures> {
  return measure(N, serverPid, async (w, i) => {
    await path.get(`get.${(w * 7919 + i) % KEYS}`);
  });
}

async function updates(path: Path, serverPid: number | undefined): Promise<Figures> {
  const revs = await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => path.put(`cas.${w}`, 0)));
  return measure(N, serverPid, async (w, i) => {
    revs[w] = await path.update(`cas.${w}`, i + 1, revs[w] ?? 0);
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  let server: NatsServer | undefined;
  if (SERVER === '') server = await startNatsServer();
  const url = server?.url ?? SERVER;
  // As the ua connects: no stack capture per request in nats.js (main.ts sets noAsyncTraces).
  const bus = { nc: await connect({ servers: url, name: 'kv-ops-bench', noAsyncTraces: true }) };
  try {
    const mux = new RequestMux(bus.nc);
    const core = await openCoreKv(bus, mux, { bucket: BUCKET, storage: STORAGE, timeoutMs: 5000 });
    // The nats.js handle openKv made (Kvm.create): it reads by direct get, as the ua did.
    const natsKv = core.kv;
    const all: Record<string, Path> = { natsjs: rawPath('nats.js KV', natsKv), corekv: rawPath('CoreKv', core), records: recordsPath(core) };
    const paths = PATHS.flatMap((p) => (all[p] === undefined ? [] : [all[p]]));
    await Promise.all(Array.from({ length: KEYS }, (_, k) => core.put(`get.${k}`, bytes(k))));

    // Warm-up: every path's code optimised before anything is measured.
    for (const p of paths) {
      for (let i = 0; i < 2000; i++) await p.get(`get.${i % KEYS}`);
      let rev = await p.put('warm', 0);
      for (let i = 0; i < 2000; i++) rev = await p.update('warm', i, rev);
    }

    const results = new Map<string, { get: Figures[]; update: Figures[] }>(paths.map((p) => [p.name, { get: [], update: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so a noisy neighbour does not always hit the same path.
      const order = round % 2 === 0 ? paths : [...paths].reverse();
      for (const p of order) {
        const r = results.get(p.name);
        r?.get.push(await gets(p, server?.pid));
        r?.update.push(await updates(p, server?.pid));
      }
    }

    const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
    const rows: string[][] = [];
    const base = results.get(paths[0]?.name ?? '');
    for (const [name, r] of results) {
      for (const op of ['get', 'update'] as const) {
        const f = r[op];
        const cpu = median(f.map((x) => x.cpuUsPerOp));
        const baseCpu = median((base?.[op] ?? []).map((x) => x.cpuUsPerOp));
        rows.push([
          name,
          op === 'get' ? 'get' : 'CAS update',
          fmt(median(f.map((x) => x.opsPerSec)), 0),
          fmt(cpu),
          fmt(median(f.map((x) => x.sysUsPerOp))),
          `${fmt(baseCpu / cpu, 2)}×`,
          fmt(median(f.map((x) => x.serverUsPerOp))),
        ]);
      }
    }
    console.log(
      table(
        `KV operations: n=${N} per round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds (median), ${KEYS} keys, ${VALUE_BYTES}-byte values, ${STORAGE} storage; load ${loadAverage()}`,
        ['path', 'operation', 'ops/s', 'client CPU µs/op', 'of which kernel', 'CPU vs nats.js', 'server CPU µs/op'],
        rows,
      ),
    );
    await natsKv.destroy();
    mux.close();
  } finally {
    await bus.nc.close();
    await server?.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
