/**
 * Fault-test harness on the local cluster of `sipnats up --cluster` (the same topology code,
 * packages/cli/src/cluster): a cluster with quiet logs, a call controller over NATS that answers
 * every offer, SIPp call load (test/sipp/fault-call.xml) counted per outcome from -trace_counts,
 * and RSS readings.
 *
 * Outcomes of a call: completed (200 to the BYE), refused (503 to the INVITE, e.g. NATS down or
 * overload), rejected (408/480/500 to the INVITE), lost (anything else: a call that got 200 and then
 * failed, or got no final answer — a hang).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson } from '@sipnats/contracts';
import { startLocalCluster, sumMetric, type LocalCluster, type LocalClusterOptions, type ServiceNode, type ManagedChild } from '../../packages/cli/src/cluster/index.js';
import { freePort } from './ports.js';
import { startSipp, type SippRun } from './sipp.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type FaultClusterOptions = Omit<LocalClusterOptions, 'repoRoot' | 'path' | 'nodePath'>;

/** The local cluster with test defaults: logs at warn (kept in memory), short ua sweeps. */
export function startFaultCluster(o: FaultClusterOptions = {}): Promise<LocalCluster> {
  return startLocalCluster({
    repoRoot: REPO_ROOT,
    path: process.env['PATH'] ?? '/usr/bin:/bin',
    nodePath: process.execPath,
    logLevel: process.env['SIPNATS_TEST_LOG_LEVEL'] ?? 'warn',
    namePrefix: 'ft',
    ...o,
    uaEnv: { SIPNATS_SWEEP_INTERVAL: '500ms', SIPNATS_ANSWER_TIMEOUT: '10s', ...o.uaEnv },
  });
}

const SDP = 'v=0\r\no=ctl 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

export interface Controller {
  readonly offers: () => number;
  readonly answered: () => number;
  /** Calls offered whose ACK (`confirmed`) has not been seen: their setup is still in flight. */
  readonly inSetup: () => number;
  /** Commands that failed after retries (each a short reason). */
  readonly failures: string[];
  close(): Promise<void>;
}

/**
 * Answers every `offer` with `answer` (SDP). A command that times out or finds no responder
 * (NATS failover) is retried a few times; a CONFLICT after a retry means the first one landed.
 */
export async function startController(cluster: LocalCluster): Promise<Controller> {
  const nc: NatsConnection = await connect({ ...cluster.clientOptions('fsshim'), reconnectTimeWait: 200, maxReconnectAttempts: -1, name: 'fault-controller' });
  let offers = 0;
  let answered = 0;
  const failures: string[] = [];
  const answer = async (call: string): Promise<void> => {
    const payload = JSON.stringify({ v: 1, action: 'answer', call, sdp: SDP });
    for (let attempt = 1; ; attempt++) {
      try {
        const m = await nc.request('sip.cmd.call.answer', payload, { timeout: 3000 });
        const r = decodeJson(CommandReply, m.data);
        if (r.ok && (r.value.ok || (attempt > 1 && r.value.code === 'CONFLICT'))) {
          answered++;
          return;
        }
        const why = r.ok ? `${r.value.code ?? '?'} ${r.value.error ?? ''}` : 'invalid reply';
        if (attempt >= 4) return void failures.push(`answer ${call}: ${why}`);
      } catch (err) {
        if (attempt >= 4) return void failures.push(`answer ${call}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const sub = nc.subscribe('sip.evt.call.offer');
  void (async () => {
    for await (const m of sub) {
      const ev = decodeJson(CallEvent, m.data);
      if (!ev.ok || ev.value.event !== 'offer') continue;
      offers++;
      void answer(ev.value.call);
    }
  })();
  let confirmed = 0;
  const confirmedSub = nc.subscribe('sip.evt.call.confirmed', { callback: () => void confirmed++ });
  await nc.flush();
  return {
    offers: () => offers,
    answered: () => answered,
    inSetup: () => offers - confirmed,
    failures,
    async close() {
      confirmedSub.unsubscribe();
      await nc.close().catch(() => undefined);
    },
  };
}

export interface CallCounts {
  attempted: number;
  answered: number;
  completed: number;
  refused: number;
  rejected: number;
  /** Completed calls whose BYE got 503 + Retry-After first and was sent again. */
  byeRetried: number;
  lost: number;
  /** SIPp's own totals, for cross-checking. */
  sippSuccessful: number;
  sippFailed: number;
}

export interface CallLoad {
  readonly run: SippRun;
  readonly dir: string;
  /** Waits for SIPp to finish; counts from its CSV files. */
  done(): Promise<CallCounts & { output: string; code: number | null }>;
  /** Counts so far (from the last per-second dump). */
  now(): CallCounts;
  dispose(): void;
}

function lastRow(dir: string, suffix: string): Map<string, number> {
  const file = readdirSync(dir).find((f) => f.startsWith('fault-call_') && f.endsWith(suffix));
  if (file === undefined) return new Map();
  const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const head = (lines[0] ?? '').split(';');
  const last = (lines.length > 1 ? (lines.at(-1) ?? '') : '').split(';');
  return new Map(head.map((h, i) => [h, Number(last[i] ?? 'NaN')]));
}

export function readCounts(dir: string): CallCounts {
  const c = lastRow(dir, '_counts.csv');
  const s = lastRow(dir, '_.csv');
  const n = (m: Map<string, number>, k: string): number => {
    const v = m.get(k);
    return v === undefined || Number.isNaN(v) ? 0 : v;
  };
  const attempted = n(c, '0_INVITE_Sent');
  const refused = n(c, '3_503_Recv');
  const rejected = n(c, '4_480_Recv') + n(c, '5_500_Recv') + n(c, '6_408_Recv');
  const completed = n(c, '12_200_Recv') + n(c, '16_200_Recv') + n(c, '19_200_Recv');
  return {
    attempted,
    answered: n(c, '7_200_Recv'),
    byeRetried: n(c, '11_503_Recv') + n(c, '15_503_Recv'),
    completed,
    refused,
    rejected,
    lost: attempted - completed - refused - rejected,
    sippSuccessful: n(s, 'SuccessfulCall(C)'),
    sippFailed: n(s, 'FailedCall(C)'),
  };
}

/**
 * SIPp UAC running fault-call.xml: `calls` calls at `rate`/s, each `holdMs` long; at most `limit`
 * at once (-l); a call waiting longer than `recvTimeoutMs` (default 12 s) for an answer fails.
 */
export async function startCallLoad(o: { remote: string; rate: number; calls: number; holdMs: number; service?: string; limit?: number; maxSeconds?: number; recvTimeoutMs?: number }): Promise<CallLoad> {
  const dir = mkdtempSync(join(tmpdir(), 'sipnats-fault-sipp-'));
  const timeoutMs = (o.maxSeconds ?? Math.ceil(o.calls / o.rate) + Math.ceil(o.holdMs / 1000) + 45) * 1000;
  const run = startSipp({
    scenario: 'fault-call.xml',
    remote: o.remote,
    localPort: await freePort(),
    calls: o.calls,
    rate: o.rate,
    timeoutMs,
    cwd: dir,
    args: ['-s', o.service ?? 'fault', '-d', String(o.holdMs), '-trace_counts', '-trace_stat', '-fd', '1', '-recv_timeout', String(o.recvTimeoutMs ?? 12_000), '-trace_err', ...(o.limit === undefined ? [] : ['-l', String(o.limit)])],
  });
  return {
    run,
    dir,
    async done() {
      const r = await run.done;
      return { ...readCounts(dir), output: r.output.slice(-3000), code: r.code };
    },
    now: () => readCounts(dir),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The first lines of SIPp's error log (for a failure message). */
export function sippErrors(dir: string, lines = 30): string {
  const file = readdirSync(dir).find((f) => f.endsWith('_errors.log'));
  if (file === undefined) return '';
  return readFileSync(join(dir, file), 'utf8').split('\n').slice(0, lines).join('\n');
}

export function formatCounts(label: string, c: CallCounts): string {
  return `${label}: attempted ${c.attempted}, completed ${c.completed}, refused (503) ${c.refused}, rejected ${c.rejected}, lost ${c.lost} (answered ${c.answered}; BYE retried after 503 ${c.byeRetried}; SIPp ok ${c.sippSuccessful} failed ${c.sippFailed})`;
}

export function rssMb(child: ManagedChild): number {
  return (child.rssBytes() ?? 0) / (1024 * 1024);
}

/**
 * Sums of Prometheus counters over `nodes` (each name summed over every series of every node);
 * a node whose /metrics does not answer counts 0 (use `running` to tell a dead one).
 */
export async function scrapeSums(nodes: readonly ServiceNode[], names: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(names.map((n) => [n, 0]));
  await Promise.all(
    nodes.map(async (node) => {
      const r = await node.http('/metrics', 5000);
      if (r === undefined || r.status !== 200) return;
      for (const n of names) out.set(n, (out.get(n) ?? 0) + sumMetric(r.body, n));
    }),
  );
  return out;
}

/** Last log lines of services, for a failure message. */
export function serviceLogs(nodes: readonly ServiceNode[], lines = 12): string {
  return nodes.map((s) => `--- ${s.instance} ---\n${s.child.logs.slice(-lines).join('\n')}`).join('\n');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
