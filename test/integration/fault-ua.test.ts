/**
 * Failure rule: a ua instance dies mid-call; the call's next request is answered from KV by the
 * other instance. The local cluster (3 NATS nodes, KV replicas 3, 2 transports, 2 uas) carries
 * calls held for several seconds; ua 1 is SIGKILLed while they are up; every BYE gets 200.
 */
import assert from 'node:assert/strict';
import type { LocalCluster } from '../../packages/cli/src/cluster/index.js';
import { formatCounts, serviceLogs, sippErrors, sleep, startCallLoad, startController, startFaultCluster, type CallLoad, type Controller } from '../support/cluster-harness.js';

describe('fault: a ua instance is killed mid-call', function () {
  this.timeout(150_000);
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

  it('SIGKILL of ua 1 while 90 calls are up: the other ua answers every BYE from KV (lost 0)', async () => {
    const c = cluster as LocalCluster;
    const [transport] = c.transports;
    assert.ok(transport !== undefined);
    // 90 calls at 30/s, each held 8 s: all are up (ACKed) from ~3 s to ~8 s after the start.
    const load = await startCallLoad({ remote: `127.0.0.1:${transport.plan.sip.udp}`, rate: 30, calls: 90, holdMs: 8000 });
    loads.push(load);
    await sleep(5000);
    const upAtKill = load.now();
    const victim = c.uas[0];
    assert.ok(victim !== undefined);
    await victim.kill();
    const r = await load.done();
    process.stdout.write(`      ${formatCounts('ua killed mid-call', r)}; answered before the kill ${upAtKill.answered}\n`);
    const detail = `${r.output}\n${sippErrors(load.dir)}\n${serviceLogs([...c.uas, ...c.transports])}`;
    assert.ok(upAtKill.answered >= 60, `calls up when ua 1 was killed: ${upAtKill.answered}`);
    assert.equal(r.attempted, 90, detail);
    assert.equal(r.lost, 0, detail);
    assert.equal(r.completed, r.attempted, detail);
    assert.ok(c.uas[1]?.running, 'the other ua is still running');
  });

  it('SIGKILLed ua restarted: calls spread over both again, none lost', async () => {
    const c = cluster as LocalCluster;
    await c.uas[0]?.start();
    const [transport] = c.transports;
    assert.ok(transport !== undefined);
    const load = await startCallLoad({ remote: `127.0.0.1:${transport.plan.sip.udp}`, rate: 30, calls: 150, holdMs: 500 });
    loads.push(load);
    const r = await load.done();
    process.stdout.write(`      ${formatCounts('after the restart', r)}\n`);
    assert.equal(r.lost, 0, `${r.output}\n${sippErrors(load.dir)}`);
    assert.equal(r.attempted, 150);
    assert.equal(r.completed, r.attempted);
  });
});
