/**
 * Transport benchmark: SIPp drives OPTIONS over UDP at stepped rates against three answering
 * targets on the same port with the same scenario (test/sipp/transport-bench-options.xml: no
 * retransmission, a 200 not back within 2 s fails the call):
 *
 *   kamailio   Kamailio answering statelessly (sl_send_reply 200), children=2 — the reference.
 *   node-udp   a bare Node.js UDP responder copying headers textually — Node's ceiling here.
 *   transport  sipnats-transport → nats-server → lean responder process → nats-server → transport.
 *
 * For each: the highest SIPp rate with no failed or unanswered OPTIONS (steps of ~5 s each, stop at
 * the first failure) and the throughput achieved there; p50/p99 response time at a fixed 5,000/s
 * (SIPp -trace_rtt, every call); CPU of each process over that fixed-rate run (/proc utime+stime).
 * Prints figures; asserts no timing.
 *
 *   pnpm bench:transport [--only transport,node-udp,kamailio] [--profile <dir>] [--rates 2000,5000]
 *                        [--node-args "--max-semi-space-size=32"] [--transport-main <path of a built main.js>]
 *                        [--fixed-seconds 5]
 *
 * `--node-args` gives Node.js options to the transport (e.g. GC sizes; default none, as `sipnats up`
 * and the images start it); with `--trace-gc` among them, the transport's GC pauses during the
 * fixed-rate run are summed up (count, total, longest, pauses over 5 and 10 ms, heap after GC).
 * With `--transport-main` an older build (a copy of services/transport/dist in
 * services/transport/node_modules/.bench-x, where its imports resolve and neither git nor eslint
 * look) runs instead of the current one, so that two versions are compared under the same
 * conditions.
 * `--fixed-seconds` makes the fixed-rate run longer than 5 s: beyond 32 s (Timer J) the transport
 * holds as many completed transactions as it will at that rate.
 *
 * Kamailio is installed with apt-get when missing (tests do not need it). The machine is shared:
 * figures move with whatever else runs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPercent, cpuSnapshot, formatCpu, loadAverage, percentile, startMeasuredSipp } from '../support/bench.js';
import { stopProcess, waitForTcp } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { SERVICE_START } from '../../packages/cli/src/cluster/index.js';
import { startTransport } from '../support/transport-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIO = 'transport-bench-options.xml';
const PEERS = join(ROOT, 'test/support/transport-bench-peers.ts');
const DEFAULT_RATES = [2000, 5000, 8000, 12000, 16000, 20000, 25000, 30000];
const STEP_SECONDS = 5;
const FIXED_RATE = 5000;

interface Args {
  readonly only: ReadonlySet<string>;
  readonly profile: string | undefined;
  readonly rates: readonly number[];
  readonly nodeArgs: readonly string[];
  readonly transportMain: string | undefined;
  readonly fixedSeconds: number;
}

const OPTIONS = ['--only', '--profile', '--rates', '--node-args', '--transport-main', '--fixed-seconds'];

function parseArgs(argv: readonly string[]): Args {
  let only = new Set(['kamailio', 'node-udp', 'transport']);
  let profile: string | undefined;
  let rates = DEFAULT_RATES;
  let nodeArgs: readonly string[] = [];
  let transportMain: string | undefined;
  let fixedSeconds = STEP_SECONDS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (v === undefined || !OPTIONS.includes(a ?? '')) throw new Error(`unknown argument ${a ?? ''}`);
    if (a === '--only') only = new Set(v.split(','));
    else if (a === '--profile') profile = v;
    else if (a === '--node-args') nodeArgs = v.split(' ').filter((x) => x !== '');
    else if (a === '--transport-main') transportMain = v;
    else if (a === '--fixed-seconds') fixedSeconds = Number(v);
    else rates = v.split(',').map(Number);
    i++;
  }
  if (!(fixedSeconds > 0)) throw new Error('--fixed-seconds must be a positive number');
  return { only, profile, rates, nodeArgs, transportMain, fixedSeconds };
}

/** A process (or process tree) under test: its pids for CPU accounting, and how to stop it. */
interface Running {
  /** Named pids whose CPU is reported (a name may cover several processes). */
  pids(): Map<string, number[]>;
  stop(): Promise<void>;
  /** With `--trace-gc`: the process's GC pauses from now until `close()`, summed up after it exited. */
  gcWindow?(): GcWindow;
}

interface GcWindow {
  close(): void;
  summary(): string;
}

interface GcPause {
  /** ms since the isolate started. */
  readonly at: number;
  readonly kind: string;
  readonly ms: number;
  readonly heapAfterMb: number;
}

/** One `--trace-gc` line: `[pid:isolate]  1234 ms: Scavenge 10.2 (12.0) -> 9.8 (13.0) MB, 1.23 / 0.00 ms  ...`. */
const GC_LINE = /\]\s+([0-9.]+) ms: (Scavenge|Mark-Compact(?: \(reduce\))?|Minor Mark-Compact|Mark-Sweep)[^,]*-> ([0-9.]+) \([0-9.]+\) MB, ([0-9.]+) \/ [0-9.]+ ms/;

/**
 * Collects every `--trace-gc` line of a child (V8 writes them through a buffered stdout, so they
 * arrive late, at the latest when the process exits) and sums up those stamped (ms since the
 * isolate started, ~ since spawn) inside each window the returned function opens.
 */
function gcTrace(child: ChildProcess, spawnedAt: number): () => GcWindow {
  const pauses: GcPause[] = [];
  let partial = '';
  child.stdout?.on('data', (b: Buffer) => {
    const lines = (partial + b.toString('latin1')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = GC_LINE.exec(line);
      if (m !== null) pauses.push({ at: Number(m[1]), kind: (m[2] as string).startsWith('Scavenge') ? 'scavenge' : 'mark-compact', ms: Number(m[4]), heapAfterMb: Number(m[3]) });
    }
  });
  return () => {
    const from = performance.now() - spawnedAt;
    let to = Infinity;
    return {
      close: () => void (to = performance.now() - spawnedAt),
      summary: () => {
        const inside = pauses.filter((p) => p.at >= from && p.at <= to);
        const part = (kind: string): string => {
          const ps = inside.filter((p) => p.kind === kind);
          const total = ps.reduce((s, p) => s + p.ms, 0);
          const max = ps.reduce((s, p) => Math.max(s, p.ms), 0);
          const over = (t: number): number => ps.filter((p) => p.ms > t).length;
          return `${kind} ${ps.length} (total ${total.toFixed(0)} ms, max ${max.toFixed(1)} ms, >5 ms ${over(5)}, >10 ms ${over(10)})`;
        };
        const heap = inside.map((p) => p.heapAfterMb);
        const heapText = heap.length === 0 ? 'n/a' : `last ${heap.at(-1)} MB, max ${Math.max(...heap)} MB`;
        return `GC during the fixed run: ${part('scavenge')}; ${part('mark-compact')}; heap after GC ${heapText}`;
      },
    };
  };
}

interface Target {
  readonly name: string;
  start(port: number, work: string): Promise<Running>;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+([0-9]+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m === null ? 0 : Math.round(Number(m[1]) / 1024);
  } catch {
    return 0;
  }
}

function waitForLine(child: ChildProcess, text: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" from ${child.spawnfile}: ${seen.slice(-500)}`)), timeoutMs);
    const on = (b: Buffer): void => {
      seen += b.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${child.spawnfile} exited with ${code}: ${seen.slice(-2000)}`));
    });
  });
}

function ensureKamailio(): string | undefined {
  const find = (): string | undefined => ['/usr/sbin/kamailio', '/usr/bin/kamailio', '/usr/local/sbin/kamailio'].find((p) => existsSync(p));
  if (find() !== undefined) return find();
  process.stdout.write('kamailio not found: installing the Debian package (apt-get install kamailio)...\n');
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'kamailio'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    try {
      execFileSync('apt-get', ['update'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'kamailio'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (err) {
      process.stdout.write(`kamailio install failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  return find();
}

function kamailioModules(): string {
  const dirs = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules'];
  return dirs.find((d) => existsSync(join(d, 'sl.so'))) ?? (dirs[0] as string);
}

const kamailio: Target = {
  name: 'kamailio',
  async start(port, work) {
    const bin = ensureKamailio();
    if (bin === undefined) throw new Error('kamailio is not installed');
    const cfg = join(work, 'kamailio.cfg');
    writeFileSync(
      cfg,
      [
        '#!KAMAILIO',
        'debug=0',
        'log_stderror=yes',
        'children=2',
        'auto_aliases=no',
        'maxbuffer=4194304',
        `listen=udp:127.0.0.1:${port}`,
        `mpath="${kamailioModules()}/"`,
        'loadmodule "sl.so"',
        'request_route {',
        '  if (method == "OPTIONS") { sl_send_reply("200", "OK"); exit; }',
        '  sl_send_reply("501", "Not Implemented");',
        '}',
        '',
      ].join('\n'),
    );
    const child = spawn(bin, ['-f', cfg, '-DD', '-E', '-w', work, '-Y', work, '-m', '64', '-M', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForLine(child, 'Listening on');
    await new Promise((r) => setTimeout(r, 500));
    const main = child.pid as number;
    return {
      pids: () => new Map([['kamailio (all processes)', [main, ...childrenOf(main)]]]),
      stop: async () => void (await stopProcess(child, 'SIGTERM', 5000)),
    };
  },
};

const nodeUdp: Target = {
  name: 'node-udp',
  async start(port) {
    const child = spawn(process.execPath, ['--import', 'tsx', PEERS, 'udp', '127.0.0.1', String(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForLine(child, 'ready');
    return {
      pids: () => new Map([['node-udp', [child.pid as number]]]),
      stop: async () => void (await stopProcess(child)),
    };
  },
};

function transportTarget(profileDir: string | undefined, nodeArgs: readonly string[], main: string | undefined): Target {
  return {
    name: 'transport',
    async start(port, work) {
      const natsPort = await freePort();
      const nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' });
      await waitForTcp('127.0.0.1', natsPort);
      const url = `nats://127.0.0.1:${natsPort}`;
      const responder = spawn(process.execPath, ['--import', 'tsx', PEERS, 'nats', url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      await waitForLine(responder, 'ready');
      if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
      const transport = await startTransport({
        natsUrl: url,
        instance: 'bench-1',
        transports: ['udp'],
        // Completed UDP non-INVITE transactions live 64*T1 = 32 s (Timer J): room for 30,000/s.
        env: { SIP_LISTEN: `udp:127.0.0.1:${port}`, LOG_LEVEL: 'warn', SIP_MAX_TRANSACTIONS: '2000000', SIPNATS_PUBLISH_QUEUE: '100000' },
        nodeArgs: [...nodeArgs, ...(profileDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])],
        ...(main !== undefined ? { main } : {}),
      });
      void work;
      const gcWindow = nodeArgs.includes('--trace-gc') ? gcTrace(transport.child, transport.spawnedAt) : undefined;
      return {
        ...(gcWindow !== undefined ? { gcWindow } : {}),
        pids: () =>
          new Map([
            ['transport', [transport.child.pid as number]],
            ['nats-server', [nats.pid as number]],
            ['responder', [responder.pid as number]],
          ]),
        stop: async () => {
          const rss = rssMb(transport.child.pid as number);
          process.stdout.write(`  transport RSS at the end: ${rss} MB\n`);
          await transport.stop('SIGTERM', 60_000);
          await stopProcess(responder);
          await stopProcess(nats);
        },
      };
    },
  };
}

interface SippRun {
  readonly ok: boolean;
  readonly code: number | null;
  readonly successful: number;
  readonly failed: number;
  readonly seconds: number;
  /** Ascending. */
  readonly rtts: number[];
  readonly sippCpu: number;
}

async function runSipp(port: number, sippPort: number, rate: number, calls: number, rtt: boolean): Promise<SippRun> {
  const f = await startMeasuredSipp({
    scenario: SCENARIO,
    remote: `127.0.0.1:${port}`,
    localPort: sippPort,
    calls,
    rate,
    rtt,
    timeoutMs: (Math.ceil(calls / rate) + 30) * 1000,
    args: ['-buff_size', '4194304', '-max_recv_loops', '100000', '-max_sched_loops', '100000'],
  }).done;
  return { ok: f.code === 0 && f.failed === 0 && f.successful === calls, code: f.code, successful: f.successful, failed: f.failed, seconds: f.seconds, rtts: f.rtt, sippCpu: f.sippCpu };
}

interface Result {
  readonly name: string;
  maxRate: number;
  achieved: number;
  firstFailure: string;
  p50: number;
  p99: number;
  fixedOk: boolean;
  cpu: Array<[string, number]>;
}

async function measure(target: Target, port: number, sippPort: number, rates: readonly number[], work: string, fixedSeconds: number): Promise<Result> {
  const r: Result = { name: target.name, maxRate: 0, achieved: 0, firstFailure: 'none', p50: NaN, p99: NaN, fixedOk: false, cpu: [] };
  process.stdout.write(`\n== ${target.name} ==\n`);
  const running = await target.start(port, work);
  let gcWindow: GcWindow | undefined;
  try {
    await runSipp(port, sippPort, 1000, 2000, false); // warm-up (JIT, caches)
    const pids = running.pids();
    const before = cpuSnapshot(pids);
    gcWindow = running.gcWindow?.();
    const fixed = await runSipp(port, sippPort, FIXED_RATE, Math.round(FIXED_RATE * fixedSeconds), true);
    gcWindow?.close();
    r.cpu = [...cpuPercent(before, cpuSnapshot(pids), fixed.seconds), ['sipp', fixed.sippCpu]];
    const sorted = [...fixed.rtts].sort((a, b) => a - b);
    r.p50 = percentile(sorted, 50);
    r.p99 = percentile(sorted, 99);
    r.fixedOk = fixed.ok;
    process.stdout.write(`  fixed ${FIXED_RATE}/s: ${fixed.successful} ok, ${fixed.failed} failed, p50 ${r.p50} ms, p99 ${r.p99} ms; CPU ${formatCpu(new Map(r.cpu))}\n`);

    for (const rate of rates) {
      const run = await runSipp(port, sippPort, rate, rate * STEP_SECONDS, false);
      const achieved = run.successful / run.seconds;
      process.stdout.write(`  -r ${rate}: ${run.successful} ok, ${run.failed} failed (exit ${run.code}) in ${run.seconds.toFixed(1)} s → ${achieved.toFixed(0)}/s\n`);
      if (!run.ok) {
        r.firstFailure = `-r ${rate}: ${run.failed} failed`;
        break;
      }
      r.maxRate = rate;
      r.achieved = Math.max(r.achieved, achieved);
    }
  } finally {
    await running.stop();
  }
  if (gcWindow !== undefined) process.stdout.write(`  ${gcWindow.summary()}\n`);
  return r;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'sipnats-bench-'));
  const port = await freePort();
  const sippPort = await freePort();
  const targets = [kamailio, nodeUdp, transportTarget(args.profile, args.nodeArgs, args.transportMain)].filter((t) => args.only.has(t.name));
  const results: Result[] = [];
  process.stdout.write(`transport bench: SIPp OPTIONS over UDP to 127.0.0.1:${port}, steps ${args.rates.join(', ')} /s × ${STEP_SECONDS} s, fixed ${FIXED_RATE}/s × ${args.fixedSeconds} s\n`);
  if (args.only.has('transport')) process.stdout.write(`transport: ${args.transportMain ?? 'services/transport/dist/main.js'}, node options: ${[...SERVICE_START.transport.nodeArgs, ...args.nodeArgs].join(' ') || '(none)'}\n`);
  process.stdout.write(`machine: ${execFileSync('nproc').toString().trim()} cores, load ${loadAverage()} (shared)\n`);
  try {
    for (const t of targets) {
      try {
        results.push(await measure(t, port, sippPort, args.rates, work, args.fixedSeconds));
      } catch (err) {
        process.stdout.write(`  ${t.name} not measured: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const kam = results.find((x) => x.name === 'kamailio');
  process.stdout.write('\n| target | max clean -r | achieved tx/s | first failure | p50 @5k/s | p99 @5k/s | CPU @5k/s | ratio to Kamailio |\n');
  process.stdout.write('|---|---|---|---|---|---|---|---|\n');
  for (const x of results) {
    const ratio = kam !== undefined && kam.achieved > 0 ? (x.achieved / kam.achieved).toFixed(2) : 'n/a';
    const lat = (v: number): string => (Number.isNaN(v) ? 'n/a' : `${v} ms`);
    process.stdout.write(
      `| ${x.name} | ${x.maxRate} | ${x.achieved.toFixed(0)} | ${x.firstFailure} | ${lat(x.p50)}${x.fixedOk ? '' : ' (failures)'} | ${lat(x.p99)} | ${formatCpu(new Map(x.cpu))} | ${ratio} |\n`,
    );
  }
  const tr = results.find((x) => x.name === 'transport');
  if (tr !== undefined) {
    process.stdout.write(`\ntargets: ≥ 0.5 of Kamailio's rate (${kam !== undefined ? (tr.achieved / kam.achieved).toFixed(2) : 'n/a'}), p99 < 10 ms at 5,000/s (${tr.p99} ms)\n`);
  }
  if (args.profile !== undefined) process.stdout.write(`CPU profile of the transport in ${args.profile}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
