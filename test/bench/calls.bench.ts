/**
 * Call benchmark: SIPp UAC → transport (UDP) → NATS → ua, with a controller that answers every
 * offer at once (a NATS subscriber on `sip.evt.call.offer` sending `answer`). Full calls
 * INVITE/100/200/ACK/BYE/200 (test/sipp/ua-bench-call.xml). Measures, and prints as a table:
 *   - the highest call rate with no failed call: steps of ~N s each (default 100, 200, 400, 700,
 *     1000, 1400 calls/s), stopping at the first step with a failed call;
 *   - INVITE-to-200 p50/p99 at a fixed rate (default 500 calls/s), from SIPp's -trace_rtt;
 *   - REGISTER with digest authentication (401, then MD5 credentials, 200) per second: 32 SIPp
 *     processes, one user each, one registration in flight each;
 * and the same call figures for the reference: SIPp UAC against SIPp's built-in UAS directly.
 * It asserts nothing about wall-clock figures; it prints them.
 *
 * Run: `pnpm bench:calls` (build first: `pnpm exec tsc -b services/transport services/ua`).
 * Options: `--seconds=10` per step, `--rates=100,200,400`, `--latency-rate=500`, `--registers=8000`,
 * `--no-reference`, `--ua-env=KEY=VALUE;KEY=VALUE` (extra environment of the ua process, e.g.
 * `SIPNATS_KV_STORAGE=memory`, or `NODE_OPTIONS=--import=/path/to/profiler-hook.mjs` to profile it).
 * Also prints the calls-bucket KV operations per completed call (from the ua's /metrics).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, decodeJson } from '@sipnats/contracts';
import { clean, kvOps, opsPerCall, percentile, startMeasuredSipp, table, type SippFigures } from '../support/bench.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { startSipp, type SippRun } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const STEP_SECONDS = Number(arg('seconds', '10'));
const RATES = arg('rates', '100,200,400,700,1000,1400').split(',').map(Number);
const LATENCY_RATE = Number(arg('latency-rate', '500'));
const REGISTERS = Number(arg('registers', '8000'));
const REFERENCE = !process.argv.includes('--no-reference');
const REGISTER_PROCS = 32;
const UA_ENV: Record<string, string> = Object.fromEntries(
  arg('ua-env', '')
    .split(';')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
/** SIPp's scheduler tick (default 10 ms) bounds its time stamps; the latency runs use 1 ms. */
const PRECISE = ['-timer_resol', '1'] as const;
const SDP = 'v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

/** One SIPp UAC run in its own directory; figures from its CSV files. */
async function uacRun(o: { scenario: string; remote: string; rate: number; calls: number; limit?: number; args?: readonly string[]; service?: string }): Promise<SippFigures> {
  return startMeasuredSipp({
    scenario: o.scenario,
    remote: o.remote,
    localPort: await freePort(),
    calls: o.calls,
    rate: o.rate,
    rtt: true,
    timeoutMs: Math.ceil(o.calls / Math.max(1, o.rate)) * 1000 + 60_000,
    args: ['-s', o.service ?? 'bench', '-recv_timeout', '10000', ...(o.limit === undefined ? [] : ['-l', String(o.limit)]), ...(o.args ?? [])],
  }).done;
}

/**
 * REGISTER throughput: SIPp's [authentication] takes one user per process (-au/-ap), so
 * REGISTER_PROCS processes, each a different user with one registration in flight (-l 1), run
 * side by side; no two registrations of one address of record race each other.
 */
async function registerRun(remote: string, users: readonly { username: string; password: string }[]): Promise<SippFigures> {
  const started = Date.now();
  const per = Math.ceil(REGISTERS / REGISTER_PROCS);
  const runs = await Promise.all(
    users.slice(0, REGISTER_PROCS).map((u) =>
      uacRun({ scenario: 'ua-bench-register.xml', remote, rate: 10_000, limit: 1, calls: per, args: ['-au', u.username, '-ap', u.password], service: u.username }),
    ),
  );
  const wall = (Date.now() - started) / 1000;
  const successful = runs.reduce((n, r) => n + r.successful, 0);
  return {
    target: 0,
    calls: per * runs.length,
    code: runs.every((r) => r.code === 0) ? 0 : 1,
    successful,
    failed: runs.reduce((n, r) => n + r.failed, 0),
    createdRate: runs.reduce((n, r) => n + r.createdRate, 0),
    completedRate: successful / wall,
    retransmissions: runs.reduce((n, r) => n + r.retransmissions, 0),
    failures: runs.map((r) => r.failures).filter((f) => f !== '').join('; '),
    seconds: wall,
    rtt: runs.flatMap((r) => r.rtt).sort((a, b) => a - b),
    rttRate: Number.NaN,
    sippCpu: runs.reduce((n, r) => n + r.sippCpu, 0),
    output: '',
  };
}

/** KV operations on the calls bucket so far, by operation, from the ua's /metrics. */
async function callsKvOps(ua: UaProcess): Promise<Map<string, number>> {
  return kvOps((await ua.http('/metrics')).body, 'sipnats_calls');
}


/** Steps the rate up; stops at the first step with a failed call. */
async function stepRates(label: string, remote: string): Promise<SippFigures[]> {
  const out: SippFigures[] = [];
  for (const rate of RATES) {
    const f = await uacRun({ scenario: 'ua-bench-call.xml', remote, rate, calls: rate * STEP_SECONDS });
    out.push(f);
    process.stderr.write(`${label} ${rate} calls/s: ${f.successful}/${f.calls} ok, ${f.failed} failed, created ${f.createdRate.toFixed(0)}/s\n`);
    if (!clean(f)) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return out;
}

function latencyRow(name: string, f: SippFigures): string[] {
  return [name, `${f.target}`, f.createdRate.toFixed(0), `${f.successful}/${f.calls}`, `${f.failed}`, `${percentile(f.rtt, 50)}`, `${percentile(f.rtt, 99)}`, `${f.rtt.at(-1) ?? Number.NaN}`];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sipnats-bench-'));
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  let uas: SippRun | undefined;
  let answerFailures = 0;
  try {
    const users = Array.from({ length: REGISTER_PROCS }, (_, i) => ({ username: `u${String(i + 1).padStart(4, '0')}`, realm: 'bench', password: `pw-${i + 1}` }));
    writeFileSync(join(work, 'users.json'), JSON.stringify({ users }));

    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-bench', transports: ['udp'], env: { LOG_LEVEL: 'warn' } });
    ua = await startUa({
      natsUrl: nats.url,
      instance: 'ua-bench',
      env: { SIPNATS_REALM: 'bench', SIPNATS_USERS_FILE: join(work, 'users.json'), SIPNATS_DIGEST_ALGORITHMS: 'MD5', LOG_LEVEL: 'warn', ...UA_ENV },
    });
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const offers = conn.subscribe('sip.evt.call.offer');
    void (async () => {
      for await (const m of offers) {
        const r = decodeJson(CallEvent, m.data);
        if (!r.ok) continue;
        conn
          .request('sip.cmd.call.answer', JSON.stringify({ v: 1, call: r.value.call, action: 'answer', sdp: SDP }), { timeout: 5000 })
          .then((reply) => {
            if (!(JSON.parse(Buffer.from(reply.data).toString('utf8')) as { ok?: boolean }).ok) answerFailures++;
          })
          .catch(() => answerFailures++);
      }
    })();
    await conn.flush();
    const uaRemote = `127.0.0.1:${transport.ports['udp'] ?? 0}`;

    const kvBefore = await callsKvOps(ua);
    const uaSteps = await stepRates('ua', uaRemote);
    await new Promise((r) => setTimeout(r, 2000));
    const uaLatency = await uacRun({ scenario: 'ua-bench-call.xml', remote: uaRemote, rate: LATENCY_RATE, calls: LATENCY_RATE * STEP_SECONDS, args: PRECISE });
    process.stderr.write(`ua latency run: ${uaLatency.successful}/${uaLatency.calls} ok\n`);
    const completedCalls = uaSteps.reduce((n, f) => n + f.successful, 0) + uaLatency.successful;
    const kvPerCall = opsPerCall(kvBefore, await callsKvOps(ua), completedCalls);
    await new Promise((r) => setTimeout(r, 2000));
    const register = await registerRun(uaRemote, users);
    process.stderr.write(`register run: ${register.successful}/${register.calls} ok\n`);

    let refSteps: SippFigures[] = [];
    let refLatency: SippFigures | undefined;
    if (REFERENCE) {
      const uasPort = await freePort();
      uas = startSipp({ scenario: 'builtin:uas', localPort: uasPort, calls: 10_000_000, rate: 1, timeoutMs: 3_600_000 });
      await new Promise((r) => setTimeout(r, 500));
      refSteps = await stepRates('reference', `127.0.0.1:${uasPort}`);
      refLatency = await uacRun({ scenario: 'ua-bench-call.xml', remote: `127.0.0.1:${uasPort}`, rate: LATENCY_RATE, calls: LATENCY_RATE * STEP_SECONDS, args: PRECISE });
    }

    const best = (steps: readonly SippFigures[]): string => {
      const ok = steps.filter(clean);
      const top = ok.at(-1);
      if (top === undefined) return 'no clean step';
      const capped = steps.length === RATES.length && ok.length === steps.length ? ', the highest step tried' : '';
      return `target ${top.target} calls/s (SIPp created ${top.createdRate.toFixed(0)}/s, completed ${top.completedRate.toFixed(0)}/s${capped})`;
    };
    const stepRows = [...uaSteps.map((f) => ['ua', f] as const), ...refSteps.map((f) => ['reference', f] as const)].map(([n, f]) => [
      n,
      `${f.target}`,
      `${f.successful}/${f.calls}`,
      `${f.failed}`,
      f.createdRate.toFixed(0),
      f.completedRate.toFixed(0),
      `${f.retransmissions}`,
      `${percentile(f.rtt, 50)}`,
      `${percentile(f.rtt, 99)}`,
    ]);
    const out = [
      `sipnats call benchmark: ${STEP_SECONDS} s per step, node ${process.version}, SIPp over UDP on 127.0.0.1`,
      table('Rate steps (full call INVITE/100/200/ACK/BYE/200)', ['system', 'target cps', 'ok/calls', 'failed', 'created/s', 'completed/s', 'retrans', 'p50 ms', 'p99 ms'], stepRows),
      table(`INVITE-to-200 at ${LATENCY_RATE} calls/s`, ['system', 'target cps', 'created/s', 'ok/calls', 'failed', 'p50 ms', 'p99 ms', 'max ms'], [
        latencyRow('ua', uaLatency),
        ...(refLatency === undefined ? [] : [latencyRow('reference', refLatency)]),
      ]),
      table(`REGISTER with digest (401 + MD5 qop=auth + 200), ${REGISTER_PROCS} users, one in flight each`, ['system', 'ok/attempts', 'failed', 'registrations/s', 'p50 ms', 'p99 ms'], [
        ['ua', `${register.successful}/${register.calls}`, `${register.failed}`, register.completedRate.toFixed(0), `${percentile(register.rtt, 50)}`, `${percentile(register.rtt, 99)}`],
      ]),
      `\nHighest step with no failed call: ua ${best(uaSteps)}${REFERENCE ? `; reference (SIPp UAS) ${best(refSteps)}` : ''}`,
      'A step whose created/s stays below its target means SIPp (or the machine) could not create calls faster.',
      `Controller answer commands refused or timed out: ${answerFailures}`,
      `Calls-bucket KV operations per completed call (steps + latency run): ${kvPerCall}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await uas?.stop();
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
