/**
 * Failure rule: NATS unreachable. All three nodes of the local cluster are stopped for 10 s: new
 * INVITEs get 503 with Retry-After (test/sipp/uac-invite-503.xml checks the header), no service
 * exits, memory stays bounded (RSS from /proc); when NATS returns, the same processes (same pids,
 * no restart) carry a normal call load to completion.
 */
import assert from 'node:assert/strict';
import type { LocalCluster } from '../../packages/cli/src/cluster/index.js';
import { formatCounts, rssMb, serviceLogs, sippErrors, sleep, startCallLoad, startController, startFaultCluster, type CallLoad, type Controller } from '../support/cluster-harness.js';
import { freePort } from '../support/ports.js';
import { runSipp } from '../support/sipp.js';

/** Stated bound: each service process stays under this resident size while NATS is down. */
const RSS_BOUND_MB = 300;

describe('fault: NATS fully down for 10 s', function () {
  this.timeout(150_000);
  let cluster: LocalCluster | undefined;
  let controller: Controller | undefined;
  let load: CallLoad | undefined;

  before(async () => {
    cluster = await startFaultCluster({ sipTransports: ['udp'] });
    controller = await startController(cluster);
  });

  after(async () => {
    await load?.run.stop();
    load?.dispose();
    await controller?.close();
    await cluster?.stop();
  });

  it('503 + Retry-After while all 3 nodes are down, processes stay up with bounded memory, and recover without restart', async () => {
    const c = cluster as LocalCluster;
    const services = [...c.transports, ...c.uas];
    const pids = services.map((s) => s.child.pid);
    const [transport] = c.transports;
    assert.ok(transport !== undefined);
    const remote = `127.0.0.1:${transport.plan.sip.udp}`;

    await Promise.all(c.nats.map((n) => n.stop('SIGTERM')));
    const downAt = Date.now();
    let maxRss = 0;
    const sampler = setInterval(() => {
      for (const s of services) maxRss = Math.max(maxRss, rssMb(s.child));
    }, 500);
    try {
      await sleep(1000);
      // 40 INVITEs at 10/s while NATS is down: every one must get 503 with Retry-After.
      const shed = await runSipp({ scenario: 'uac-invite-503.xml', remote, localPort: await freePort(), calls: 40, rate: 10, timeoutMs: 20_000, args: ['-s', 'down', '-recv_timeout', '5000'] });
      const shedOk = /Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(shed.output)?.[1];
      process.stdout.write(`      while NATS down: INVITEs attempted 40, refused 503 with Retry-After ${shedOk ?? '?'}\n`);
      assert.equal(shed.code, 0, shed.output.slice(-2500));
      await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
    } finally {
      clearInterval(sampler);
    }
    process.stdout.write(`      NATS down ${((Date.now() - downAt) / 1000).toFixed(1)} s; max service RSS ${maxRss.toFixed(0)} MB (bound ${RSS_BOUND_MB} MB)\n`);
    for (const s of services) assert.ok(s.running, `${s.instance} exited while NATS was down\n${s.child.logs.slice(-10).join('\n')}`);
    assert.ok(maxRss < RSS_BOUND_MB, `RSS ${maxRss} MB`);

    await Promise.all(c.nats.map((n) => n.start()));
    await c.waitNatsHealthy(60_000);
    // Services reconnect on their own; wait until every one is ready again, then until a call completes.
    for (const s of services) {
      const until = Date.now() + 30_000;
      while ((await s.http('/readyz'))?.status !== 200 && Date.now() < until) await sleep(200);
    }
    const until = Date.now() + 45_000;
    for (;;) {
      const probe = await startCallLoad({ remote, rate: 1, calls: 1, holdMs: 100, maxSeconds: 20 });
      const p = await probe.done();
      probe.dispose();
      if (p.completed === 1 || Date.now() > until) break;
      await sleep(1000);
    }
    load = await startCallLoad({ remote, rate: 30, calls: 300, holdMs: 500 });
    const r = await load.done();
    process.stdout.write(`      ${formatCounts('after NATS returned', r)}\n`);
    const detail = `${r.output}\n${sippErrors(load.dir)}\n${serviceLogs(services)}`;
    assert.deepEqual(services.map((s) => s.child.pid), pids, 'no service was restarted');
    assert.equal(r.attempted, 300, detail);
    assert.equal(r.lost, 0, detail);
    assert.equal(r.completed, r.attempted, detail);
  });
});
