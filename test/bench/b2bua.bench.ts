/**
 * B2BUA benchmark: SIPp UAC → transport (UDP) → NATS → ua (SIPNATS_ROUTING=bridge, a static route
 * in SIPNATS_ROUTES_FILE) → transport → SIPp UAS, beside the same SIPp pair connected directly, in
 * the same run. Full calls over UDP (test/sipp/ua-bench-call.xml against SIPp's built-in UAS):
 * INVITE (SDP) → 100 → 180 → 200 (SDP) → ACK → pause (--pause, default 1 s) → BYE → 200; on the
 * bridged path each call is two dialogs (caller ↔ ua, ua ↔ callee), both kept in KV.
 *
 * Rates step up (default 100, 200, 300, 400, 500, 600, 800, 1000 calls/s, --seconds each), the two
 * paths taking turns at each rate, each stopping at its first step with a failed call. A step is
 * clean when the UAC completed every call and the UAS (one per step, -m calls) did too. For each
 * step it prints: calls answered per second, failures and retransmissions, INVITE-to-200 p50/p99/max
 * (SIPp -trace_rtt, every call, 1 ms timer), CPU of transport, ua, nats-server and both SIPps over
 * the UAC's run (% of one core; the ua's removal of ended calls 32 s later lands in a later step), and
 * KV operations per bridged call (the ua's /metrics). Then the highest clean rate of each path and
 * its ratio to the target of 500 bridged calls/s. It asserts nothing about time; it prints figures.
 *
 *   pnpm bench:b2bua [--rates=100,200,500] [--seconds=10] [--pause=1000] [--only=bridged|direct]
 *                    [--node-args="--max-semi-space-size=32"] [--profile=<dir>] [--ua-env="K=V;K=V"] [--ua-instances=1]
 *
 * `--node-args` gives Node.js options to transport and ua; `--profile` writes their CPU profiles
 * (`node --cpu-prof`) into that directory when they stop. Build first (`pnpm -s build`). The
 * machine is shared: figures move with whatever else runs; run it more than once.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  clean,
  cpuPercent,
  cpuSnapshot,
  kvOps,
  loadAverage,
  opsPerCall,
  percentile,
  startMeasuredSipp,
  table,
  udpReceiveDrops,
  waitForUdpBound,
  type SippFigures,
} from '../support/bench.js';
import { startNatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { SERVICE_START } from '../../packages/cli/src/cluster/index.js';
import { startTransport } from '../support/transport-process.js';
import { startUa } from '../support/ua-process.js';

const TARGET_CPS = 500;
const SCENARIO = 'ua-bench-call.xml';
/** Called number; the static route `9` sends it to the UAS. */
const NUMBER = '9500';
const RECV_TIMEOUT_MS = 10_000;
/** SIPp's socket buffers (-buff_size; its default is 64 KiB), as large as the kernel allows here, like the transport's. */
const SIPP_BUFFER = ['-buff_size', '4194304'];
const SERVICES = ['transport', 'ua', 'nats-server'] as const;

const { values: opts } = parseArgs({
  options: {
    rates: { type: 'string', default: '100,200,300,400,500,600,800,1000' },
    seconds: { type: 'string', default: '10' },
    pause: { type: 'string', default: '1000' },
    only: { type: 'string', default: 'direct,bridged' },
    'node-args': { type: 'string', default: '' },
    'ua-env': { type: 'string', default: '' },
    'ua-instances': { type: 'string', default: '1' },
    profile: { type: 'string' },
  },
  strict: true,
});
const RATES = opts.rates.split(',').map(Number);
const STEP_SECONDS = Number(opts.seconds);
const PAUSE_MS = Number(opts.pause);
const PATHS = (['direct', 'bridged'] as const).filter((p) => opts.only.split(',').includes(p));
if (RATES.some((r) => !(r > 0)) || !(STEP_SECONDS > 0) || !(PAUSE_MS >= 0) || PATHS.length === 0) {
  throw new Error('usage: --rates=<positive list> --seconds=<positive> --pause=<ms ≥ 0> --only=direct,bridged');
}
const PROFILE = opts.profile === undefined ? undefined : resolve(opts.profile);
/** ua processes side by side (one queue group): the ua is one event loop, the machine has more cores. */
const UA_INSTANCES = Number(opts['ua-instances']);
if (!Number.isInteger(UA_INSTANCES) || UA_INSTANCES < 1 || UA_INSTANCES > 8) throw new Error('usage: --ua-instances=<1..8>');
/** Extra environment of the ua (`KEY=VALUE;KEY=VALUE`), e.g. `SIPNATS_MAX_CONCURRENCY=256`. */
const UA_ENV: Record<string, string> = Object.fromEntries(
  opts['ua-env']
    .split(';')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const NODE_ARGS = [...opts['node-args'].split(' ').filter((a) => a !== ''), ...(PROFILE === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', PROFILE])];

type PathName = (typeof PATHS)[number];

interface Step {
  readonly path: PathName;
  readonly uac: SippFigures;
  readonly uas: SippFigures;
  /** % of one core over the step, per process. */
  readonly cpu: ReadonlyMap<string, number>;
  /** Service CPU time (transport + ua + nats-server) per successful call, ms. */
  readonly serviceMsPerCall: number;
  readonly kv: string;
  /** UDP datagrams dropped by the kernel for full receive buffers during the step (machine-wide). */
  readonly udpDrops: number;
}

const stepClean = (s: Step): boolean => clean(s.uac) && clean(s.uas);
/** SIPp's response times are whole milliseconds give or take its float rounding. */
const ms = (v: number): string => (Number.isNaN(v) ? 'n/a' : v.toFixed(0));

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sipnats-bench-b2bua-'));
  // One UAS port per path: late messages of a step that failed (the ua's BYEs and retransmissions
  // to calls SIPp gave up on) never reach the other path's UAS.
  const uasPorts: Record<PathName, number> = { direct: await freePort(), bridged: await freePort() };
  writeFileSync(join(work, 'routes.json'), JSON.stringify({ routes: [{ prefix: '9', target: `sip:{user}@127.0.0.1:${uasPorts.bridged}` }] }));
  if (PROFILE !== undefined) mkdirSync(PROFILE, { recursive: true });
  const nats = await startNatsServer();
  const transport = await startTransport({ natsUrl: nats.url, instance: 'tr-b2bua', transports: ['udp'], env: { LOG_LEVEL: 'warn' }, nodeArgs: NODE_ARGS });
  const uas = await Promise.all(
    Array.from({ length: UA_INSTANCES }, (_, i) =>
      startUa({
        natsUrl: nats.url,
        instance: `ua-b2bua-${i + 1}`,
        env: { SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_ROUTING: 'bridge', SIPNATS_ROUTES_FILE: join(work, 'routes.json'), LOG_LEVEL: 'warn', ...UA_ENV },
        nodeArgs: NODE_ARGS,
      }),
    ),
  );
  /** KV operations of every ua instance. */
  const uaKvOps = async (): Promise<Map<string, number>> => {
    const all = new Map<string, number>();
    for (const ua of uas) for (const [op, n] of kvOps((await ua.http('/metrics')).body)) all.set(op, (all.get(op) ?? 0) + n);
    return all;
  };
  const remotes: Record<PathName, string> = { direct: `127.0.0.1:${uasPorts.direct}`, bridged: `127.0.0.1:${transport.ports['udp'] ?? 0}` };
  const pids = new Map<string, number[]>([
    ['transport', [transport.child.pid ?? 0]],
    ['ua', uas.map((ua) => ua.child.pid ?? 0)],
    ['nats-server', [nats.pid ?? 0]],
  ]);

  /** One step: a UAS taking `rate * STEP_SECONDS` calls, then the UAC placing them. */
  const step = async (path: PathName, rate: number, seconds = STEP_SECONDS): Promise<Step> => {
    const calls = rate * seconds;
    const runFor = (Math.ceil(calls / rate) + 2 * RECV_TIMEOUT_MS / 1000) * 1000 + PAUSE_MS + 30_000;
    const uasPort = uasPorts[path];
    const uas = startMeasuredSipp({ scenario: 'builtin:uas', localPort: uasPort, calls, rate: 1, timeoutMs: runFor, args: ['-l', String(calls), '-recv_timeout', String(RECV_TIMEOUT_MS), ...SIPP_BUFFER] });
    await waitForUdpBound(uasPort);
    const kvBefore = path === 'bridged' ? await uaKvOps() : new Map<string, number>();
    const before = cpuSnapshot(pids);
    const drops = udpReceiveDrops();
    const uac = await startMeasuredSipp({
      scenario: SCENARIO,
      remote: remotes[path],
      localPort: await freePort(),
      calls,
      rate,
      rtt: true,
      timeoutMs: runFor,
      args: ['-s', NUMBER, '-d', String(PAUSE_MS), '-recv_timeout', String(RECV_TIMEOUT_MS), '-timer_resol', '1', '-l', String(calls), ...SIPP_BUFFER],
    }).done;
    // CPU over the UAC's run: from its first call to the end of its last.
    const cpu = cpuPercent(before, cpuSnapshot(pids), uac.seconds);
    // The UAS ends on its own after its last BYE; when calls were lost on the way it never sees them all.
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([uas.done.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), RECV_TIMEOUT_MS + 2000)))]);
    clearTimeout(timer);
    if (!ended) await uas.stop();
    const uasFigures = await uas.done;
    cpu.set('sipp uac', uac.sippCpu);
    cpu.set('sipp uas', uasFigures.sippCpu);
    const serviceSeconds = SERVICES.reduce((s, n) => s + ((cpu.get(n) ?? 0) / 100) * uac.seconds, 0);
    const kv = path === 'bridged' ? opsPerCall(kvBefore, await uaKvOps(), uac.successful) : '';
    return { path, uac, uas: uasFigures, cpu, serviceMsPerCall: (serviceSeconds * 1000) / Math.max(1, uac.successful), kv, udpDrops: udpReceiveDrops() - drops };
  };

  const steps: Step[] = [];
  try {
    process.stderr.write(`b2bua bench: ${cpus().length} cores, load ${loadAverage()}; warming up\n`);
    for (const path of PATHS) await step(path, 100, 3);
    const live = new Set<PathName>(PATHS);
    for (const rate of RATES) {
      for (const path of PATHS) {
        if (!live.has(path)) continue;
        const s = await step(path, rate);
        steps.push(s);
        const u = s.uac;
        process.stderr.write(
          `${path} ${rate}/s: UAC ${u.successful}/${u.calls} ok, ${u.failed} failed, answered ${u.rttRate.toFixed(0)}/s, p99 ${ms(percentile(u.rtt, 99))} ms; UAS ${s.uas.successful} ok, ${s.uas.failed} failed${s.uac.failures === '' && s.uas.failures === '' ? '' : ` (UAC: ${s.uac.failures || '-'}; UAS: ${s.uas.failures || '-'})`}\n`,
        );
        if (!stepClean(s)) live.delete(path);
        await new Promise((r) => setTimeout(r, 2000));
      }
      if (live.size === 0) break;
    }
  } finally {
    await Promise.all(uas.map((ua) => ua.stop('SIGTERM', 30_000)));
    await transport.stop('SIGTERM', 30_000);
    await nats.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  report(steps, `transport pid ${transport.child.pid ?? '?'}, ua pid ${uas.map((ua) => ua.child.pid ?? '?').join(', ')}`);
}

function report(steps: readonly Step[], processes: string): void {
  const pct = (s: Step, n: string): string => `${(s.cpu.get(n) ?? 0).toFixed(0)}%`;
  const rows = steps.map((s) => [
    s.path,
    `${s.uac.target}`,
    s.uac.rttRate.toFixed(0),
    `${s.uac.successful}/${s.uac.calls}`,
    `${s.uac.failed}`,
    `${s.uas.successful}/${s.uas.calls}`,
    `${s.uac.retransmissions}`,
    `${s.udpDrops}`,
    ms(percentile(s.uac.rtt, 50)),
    ms(percentile(s.uac.rtt, 99)),
    ms(s.uac.rtt.at(-1) ?? Number.NaN),
    pct(s, 'transport'),
    pct(s, 'ua'),
    pct(s, 'nats-server'),
    pct(s, 'sipp uac'),
    pct(s, 'sipp uas'),
    s.path === 'bridged' ? s.serviceMsPerCall.toFixed(2) : '',
    s.kv,
  ]);
  const best = (path: PathName): Step | undefined => {
    let top: Step | undefined;
    for (const s of steps.filter((x) => x.path === path)) {
      if (!stepClean(s)) break;
      top = s;
    }
    return top;
  };
  const describe = (path: PathName): string => {
    const top = best(path);
    const mine = steps.filter((x) => x.path === path);
    if (top === undefined) return `${path}: no clean step`;
    const last = mine.at(-1);
    const why = last !== undefined && !stepClean(last) ? `; first failure at ${last.uac.target}/s` : '; the highest step tried';
    return `${path}: ${top.uac.target} calls/s (answered ${top.uac.rttRate.toFixed(0)}/s, p99 INVITE-to-200 ${ms(percentile(top.uac.rtt, 99))} ms${why})`;
  };
  const bridged = best('bridged');
  const direct = best('direct');
  const out = [
    `sipnats B2BUA benchmark: ${STEP_SECONDS} s per step, pause ${PAUSE_MS} ms before BYE, node ${process.version}, SIPp over UDP on 127.0.0.1, load ${loadAverage()}`,
    `ua instances: ${UA_INSTANCES} (CPU column: their sum); node options: transport ${[...SERVICE_START.transport.nodeArgs, ...NODE_ARGS].join(' ') || '(none)'}, ua ${[...SERVICE_START.ua.nodeArgs, ...NODE_ARGS].join(' ') || '(none)'}; extra ua environment: ${Object.entries(UA_ENV).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`,
    table(
      'Rate steps (UAC → [transport → ua → transport →] UAS; CPU in % of one core over the UAC run)',
      ['path', 'target cps', 'answered/s', 'UAC ok/calls', 'failed', 'UAS ok/calls', 'retrans', 'UDP drops', 'p50 ms', 'p99 ms', 'max ms', 'transport', 'ua', 'nats', 'sipp uac', 'sipp uas', 'svc ms/call', 'KV ops/call'],
      rows,
    ),
    '\nHighest step with no failed call:',
    ...PATHS.map((p) => `  ${describe(p)}`),
    ...(PATHS.includes('bridged')
      ? [`Bridged against the target of ${TARGET_CPS} calls/s: ${((bridged?.uac.target ?? 0) / TARGET_CPS).toFixed(2)}${direct === undefined ? '' : `; against direct SIPp: ${((bridged?.uac.target ?? 0) / direct.uac.target).toFixed(2)}`}`]
      : []),
    'answered/s: 200s to INVITE per second at the UAC from the first to the last; below the target, SIPp (or the machine) could not keep up.',
    'UDP drops: datagrams the kernel dropped for a full socket receive buffer during the step, on the whole (shared) machine.',
    ...(PROFILE === undefined ? [] : [`CPU profiles (CPU.<date>.<pid>.*.cpuprofile) of ${processes} in ${PROFILE}`]),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
