/**
 * Shared pieces of the benchmarks in test/bench/: SIPp runs measured from their own statistics
 * (-trace_stat, -trace_rtt) and CPU, percentiles, CPU accounting of other processes from /proc,
 * KV operation counts from the ua's /metrics, and the printed tables. Benchmarks print figures;
 * nothing here asserts on time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSipp, type SippOptions } from './sipp.js';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Nearest-rank percentile of an ascending list (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** User + system CPU time of a process so far, in clock ticks (0 once it is gone). */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

/** CPU ticks of named groups of processes, for `cpuPercent` over an interval. */
export function cpuSnapshot(pids: ReadonlyMap<string, readonly number[]>): Map<string, number> {
  return new Map([...pids].map(([name, ps]) => [name, ps.reduce((s, p) => s + cpuTicks(p), 0)]));
}

/** CPU use of each group between two snapshots, in % of one core. */
export function cpuPercent(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, seconds: number): Map<string, number> {
  return new Map([...after].map(([name, t]) => [name, ((t - (before.get(name) ?? 0)) / CLK_TCK / seconds) * 100]));
}

/** `name 12%, other 30%`. */
export function formatCpu(cpu: ReadonlyMap<string, number>): string {
  return [...cpu].map(([n, c]) => `${n} ${c.toFixed(0)}%`).join(', ');
}

/** The machine's load average, for the header of a report (the machine is shared). */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
}

/** UDP datagrams the kernel dropped for a full socket receive buffer so far (machine-wide, /proc/net/snmp). */
export function udpReceiveDrops(): number {
  const lines = readFileSync('/proc/net/snmp', 'latin1').split('\n').filter((l) => l.startsWith('Udp: '));
  const head = (lines[0] ?? '').split(' ');
  const values = (lines[1] ?? '').split(' ');
  return Number(values[head.indexOf('RcvbufErrors')] ?? Number.NaN);
}

/** Resolves once some process has a UDP socket bound to `port` (from /proc/net/udp{,6}). */
export async function waitForUdpBound(port: number, timeoutMs = 10_000): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bound = ['/proc/net/udp', '/proc/net/udp6'].some((f) => {
      try {
        return readFileSync(f, 'latin1')
          .split('\n')
          .some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex) === true);
      } catch {
        return false;
      }
    });
    if (bound) return;
    if (Date.now() > deadline) throw new Error(`nothing bound UDP port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The last row of a SIPp -trace_stat CSV as column → value (empty when there is none). */
export function readSippStats(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return new Map();
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = (lines[0] ?? '').split(';');
  const last = (lines.at(-1) ?? '').split(';');
  return new Map(head.map((h, i) => [h, last[i] ?? '']));
}

/**
 * SIPp's -trace_rtt file in `dir` (`Date_ms;response_time_ms;rtd_no`, one row per call with -rtt_freq
 * 1): the response times (ms) ascending, and how many of those responses came per second between
 * the first and the last.
 */
export function readSippRtt(dir: string): { readonly rtt: number[]; readonly rate: number } {
  const file = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
  if (file === undefined) return { rtt: [], rate: Number.NaN };
  const rtt: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const line of readFileSync(join(dir, file), 'latin1').split('\n').slice(1)) {
    const [at, ms] = line.split(';').map(Number);
    if (at === undefined || ms === undefined || !Number.isFinite(at) || !Number.isFinite(ms)) continue;
    rtt.push(ms);
    first = Math.min(first, at);
    last = Math.max(last, at);
  }
  return { rtt: rtt.sort((a, b) => a - b), rate: rtt.length > 1 && last > first ? ((rtt.length - 1) * 1000) / (last - first) : Number.NaN };
}

export interface SippFigures {
  /** The -r asked for, and the -m. */
  readonly target: number;
  readonly calls: number;
  readonly code: number | null;
  readonly successful: number;
  readonly failed: number;
  /** Calls created per second, as SIPp measured it (a UAS creates one per INVITE taken). */
  readonly createdRate: number;
  /** Successful calls per second of wall time (start of SIPp to its exit). */
  readonly completedRate: number;
  readonly retransmissions: number;
  /** Failed calls by SIPp's cause (`TimeoutOnRecv 3, UnexpectedMessage 1`), or empty. */
  readonly failures: string;
  readonly seconds: number;
  /** Response times of the rtd="true" response (ms), ascending; empty unless `rtt`. */
  readonly rtt: number[];
  /** Those responses per second from the first to the last (the answer rate of a UAC); NaN unless `rtt`. */
  readonly rttRate: number;
  /** SIPp's own CPU in % of one core over its run (sampled every 200 ms). */
  readonly sippCpu: number;
  /** The end of SIPp's output, for a report when a run goes wrong. */
  readonly output: string;
}

export interface MeasuredSipp {
  readonly pid: number;
  readonly done: Promise<SippFigures>;
  /** Ends SIPp early (SIGUSR1: it writes its statistics and exits). */
  stop(): Promise<void>;
}

/**
 * SIPp (support/sipp.ts) in a directory of its own with -trace_stat (and -trace_rtt, every call,
 * with `rtt`); the figures come from its CSV files when it exits, and the directory is removed.
 */
export function startMeasuredSipp(o: SippOptions & { readonly rtt?: boolean }): MeasuredSipp {
  const dir = mkdtempSync(join(tmpdir(), 'sipnats-bench-sipp-'));
  const stat = join(dir, 'stat.csv');
  const started = process.hrtime.bigint();
  const run = startSipp({
    ...o,
    cwd: dir,
    args: ['-trace_stat', '-stf', stat, '-fd', '1', ...(o.rtt === true ? ['-trace_rtt', '-rtt_freq', '1'] : []), ...(o.args ?? [])],
  });
  const pid = run.child.pid ?? 0;
  let ticks = 0;
  const sampler = setInterval(() => (ticks = Math.max(ticks, cpuTicks(pid))), 200);
  const done = run.done.then(({ code, output }) => {
    clearInterval(sampler);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const s = readSippStats(stat);
      const num = (k: string): number => Number(s.get(k) ?? 'NaN');
      const rtt = o.rtt === true ? readSippRtt(dir) : { rtt: [], rate: Number.NaN };
      return {
        target: o.rate ?? 10,
        calls: o.calls ?? 1,
        code,
        successful: num('SuccessfulCall(C)'),
        failed: num('FailedCall(C)'),
        createdRate: num('CallRate(C)'),
        completedRate: num('SuccessfulCall(C)') / seconds,
        retransmissions: num('Retransmissions(C)'),
        failures: [...s]
          .filter(([k, v]) => /^Failed.+\(C\)$/.test(k) && k !== 'FailedCall(C)' && Number(v) > 0)
          .map(([k, v]) => `${k.slice('Failed'.length, -3)} ${v}`)
          .join(', '),
        seconds,
        rtt: rtt.rtt,
        rttRate: rtt.rate,
        sippCpu: (ticks / CLK_TCK / seconds) * 100,
        output: output.slice(-3000),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return { pid, done, stop: () => run.stop() };
}

/** Every call asked for succeeded and none failed. */
export const clean = (f: SippFigures): boolean => f.failed === 0 && f.successful === f.calls;

/** Operation counts of the ua's KV buckets so far, keyed `bucket op` (from its /metrics text). */
export function kvOps(metrics: string, bucket?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics.matchAll(/^sipnats_ua_kv_seconds_count\{([^}]*)\} (\d+)/gm)) {
    const labels = m[1] ?? '';
    const b = /bucket="([^"]+)"/.exec(labels)?.[1] ?? '?';
    if (bucket !== undefined && b !== bucket) continue;
    const op = /op="([^"]+)"/.exec(labels)?.[1] ?? '?';
    const key = bucket === undefined ? `${b} ${op}` : op;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

/** `3.00 (get 1.00, put 2.00)`: KV operations per completed call between two `kvOps` readings. */
export function opsPerCall(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, calls: number): string {
  const parts: string[] = [];
  let total = 0;
  for (const [op, n] of after) {
    const d = n - (before.get(op) ?? 0);
    total += d;
    if (d > 0) parts.push(`${op} ${(d / Math.max(1, calls)).toFixed(2)}`);
  }
  return `${(total / Math.max(1, calls)).toFixed(2)} (${parts.join(', ')})`;
}

/** A Markdown table under a title line. */
export function table(title: string, head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [`\n${title}`, line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
