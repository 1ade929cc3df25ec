/**
 * Failure rule: flooding gives bounded memory, 503s or counted drops, no crash, no stall. SIPp
 * offers calls at three times a conservative capacity for 30 s against one transport of the local
 * cluster; afterwards a normal run completes.
 *
 * Capacity: a constant, CAPACITY_CPS = 100 calls/s, below what the whole cluster (3 NATS nodes, 2
 * transports, 2 uas, SIPp) sustains on a 2-core machine; the flood is 3 × that. Memory bound:
 * every service process stays under RSS_BOUND_MB (RSS from /proc, sampled every 500 ms).
 */
import assert from 'node:assert/strict';
import type { LocalCluster } from '../../packages/cli/src/cluster/index.js';
import { formatCounts, rssMb, serviceLogs, sippErrors, sleep, startCallLoad, startController, startFaultCluster, type CallLoad, type Controller } from '../support/cluster-harness.js';

const CAPACITY_CPS = 100;
const FLOOD_SECONDS = 30;
const RSS_BOUND_MB = 300;

describe('fault: SIPp flood at 3× capacity for 30 s', function () {
  this.timeout(180_000);
  let cluster: LocalCluster | undefined;
  let controller: Controller | undefined;
  const loads: CallLoad[] = [];

  before(async () => {
    cluster = await startFaultCluster({ sipTransports: ['udp'] });
    controller = await startController(cluster);
  });

  after(async () => {
    for (const l of loads) {
      await l.run.stop();
      l.dispose();
    }
    await controller?.close();
    await cluster?.stop();
  });

  it(`${3 * CAPACITY_CPS} calls/s for ${FLOOD_SECONDS} s: RSS < ${RSS_BOUND_MB} MB, excess refused or counted, normal service within seconds after`, async () => {
    const c = cluster as LocalCluster;
    const services = [...c.transports, ...c.uas];
    const [transport] = c.transports;
    assert.ok(transport !== undefined);
    const remote = `127.0.0.1:${transport.plan.sip.udp}`;
    const rate = 3 * CAPACITY_CPS;
    const flood = await startCallLoad({ remote, rate, calls: rate * FLOOD_SECONDS, holdMs: 0, maxSeconds: FLOOD_SECONDS + 30 });
    loads.push(flood);
    const maxRss = new Map<string, number>();
    const sampler = setInterval(() => {
      for (const s of services) maxRss.set(s.instance, Math.max(maxRss.get(s.instance) ?? 0, rssMb(s.child)));
    }, 500);
    let r;
    try {
      r = await flood.done();
    } finally {
      clearInterval(sampler);
    }
    const shedTransport = (await transport.metric('sipnats_transport_shed_total')) ?? 0;
    const shedUa = (await Promise.all(c.uas.map(async (u) => (await u.metric('sipnats_ua_shed_total')) ?? 0))).reduce((a, b) => a + b, 0);
    process.stdout.write(`      ${formatCounts('flood', r)}\n`);
    process.stdout.write(`      shed (metrics): transport ${shedTransport}, ua ${shedUa}; max RSS MB ${[...maxRss].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}\n`);
    for (const s of services) assert.ok(s.running, `${s.instance} exited during the flood\n${s.child.logs.slice(-10).join('\n')}`);
    for (const [k, v] of maxRss) assert.ok(v < RSS_BOUND_MB, `${k}: RSS ${v.toFixed(0)} MB`);
    assert.ok(r.attempted >= rate * FLOOD_SECONDS * 0.5, `SIPp offered ${r.attempted} calls`);
    if (r.refused > 0) assert.ok(shedTransport + shedUa > 0, '503s sent are counted in the shed metrics');

    // Back to normal within seconds: a normal run right after completes in full.
    await sleep(3000);
    const normal = await startCallLoad({ remote, rate: 30, calls: 150, holdMs: 200 });
    loads.push(normal);
    const n = await normal.done();
    process.stdout.write(`      ${formatCounts('normal run 3 s after the flood', n)}\n`);
    const detail = `${n.output}\n${sippErrors(normal.dir)}\n${serviceLogs(services)}`;
    assert.equal(n.attempted, 150, detail);
    assert.equal(n.lost, 0, detail);
    assert.equal(n.completed, n.attempted, detail);
  });
});
