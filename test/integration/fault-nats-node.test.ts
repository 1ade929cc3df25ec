/**
 * Failure rule: a NATS server of a 3-node cluster dies under load. The local cluster (3 NATS nodes,
 * KV replicas 3, 2 transports, 2 uas, users from deploy/nats) carries a steady SIPp call load; the
 * node with the most client connections is SIGKILLed, then restarted. Clients reconnect to the
 * other nodes; no call that got a 200 fails; calls refused meanwhile get 503; none hangs.
 */
import assert from 'node:assert/strict';
import type { LocalCluster, NatsNode } from '../../packages/cli/src/cluster/index.js';
import { formatCounts, serviceLogs, sippErrors, sleep, startCallLoad, startController, startFaultCluster, type CallLoad, type Controller } from '../support/cluster-harness.js';

async function clientConnections(node: NatsNode): Promise<number> {
  try {
    const res = await fetch(`http://${node.plan.host}:${node.plan.monitorPort}/varz`, { signal: AbortSignal.timeout(2000) });
    const varz = (await res.json()) as { connections?: number };
    return varz.connections ?? 0;
  } catch {
    return 0;
  }
}

describe('fault: a NATS node of the 3-node cluster is killed under load and restarted', function () {
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

  it('SIGKILL of the busiest NATS node at 30 calls/s: clients reconnect, no answered call fails, nothing hangs (lost 0)', async () => {
    const c = cluster as LocalCluster;
    const [t1, t2] = c.transports;
    assert.ok(t1 !== undefined && t2 !== undefined);
    // Two SIPp UACs, one per transport: 2 × 15 calls/s for 25 s, calls held 1 s.
    const loads = [
      await startCallLoad({ remote: `127.0.0.1:${t1.plan.sip.udp}`, rate: 15, calls: 375, holdMs: 1000 }),
      await startCallLoad({ remote: `127.0.0.1:${t2.plan.sip.udp}`, rate: 15, calls: 375, holdMs: 1000 }),
    ];
    try {
      await sleep(7000);
      const counts = await Promise.all(c.nats.map(clientConnections));
      const victimIndex = counts.indexOf(Math.max(...counts));
      const victim = c.nats[victimIndex] as NatsNode;
      await victim.kill();
      process.stdout.write(`      killed ${victim.name} (${counts[victimIndex] ?? 0} client connections of ${counts.join('/')})\n`);
      await sleep(8000);
      await victim.start();
      await c.waitNatsHealthy(30_000);
      process.stdout.write(`      restarted ${victim.name}; JetStream healthy on all nodes\n`);
      const results = await Promise.all(loads.map((l) => l.done()));
      const total = results.reduce(
        (a, r) => ({
          attempted: a.attempted + r.attempted,
          answered: a.answered + r.answered,
          completed: a.completed + r.completed,
          refused: a.refused + r.refused,
          rejected: a.rejected + r.rejected,
          byeRetried: a.byeRetried + r.byeRetried,
          lost: a.lost + r.lost,
          sippSuccessful: a.sippSuccessful + r.sippSuccessful,
          sippFailed: a.sippFailed + r.sippFailed,
        }),
        { attempted: 0, answered: 0, completed: 0, refused: 0, rejected: 0, byeRetried: 0, lost: 0, sippSuccessful: 0, sippFailed: 0 },
      );
      process.stdout.write(`      ${formatCounts('NATS node killed', total)}\n`);
      if ((controller?.failures.length ?? 0) > 0) process.stdout.write(`      controller commands failed: ${controller?.failures.length}\n`);
      const detail = `${results.map((r) => r.output).join('\n')}\n${loads.map((l) => sippErrors(l.dir)).join('\n')}\n${serviceLogs([...c.transports, ...c.uas])}`;
      assert.ok(total.attempted >= 600, `SIPp attempted ${total.attempted} calls\n${detail}`);
      assert.equal(total.lost, 0, detail);
      assert.ok(total.completed >= total.attempted * 0.5, `completed ${total.completed} of ${total.attempted}\n${detail}`);
      for (const s of [...c.transports, ...c.uas]) assert.ok(s.running, `${s.instance} is running`);
    } finally {
      for (const l of loads) {
        await l.run.stop();
        l.dispose();
      }
    }
  });
});
