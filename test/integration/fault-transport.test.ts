/**
 * Failure rule: a transport instance dies; UDP peers' retransmissions, taken by another instance,
 * still complete. SIPp → a UDP load balancer (test/support/udp-balancer.ts: sticky per source,
 * failover on ICMP refusal or a failing /healthz) → two transports advertising the balancer's
 * address (Record-Route flow tokens name the instance, HMAC-checked with the shared secret). The
 * transport carrying SIPp's traffic is SIGKILLed mid-call; in-dialog requests (ACK, BYE) routed by
 * the dead instance's flow token reach the survivor, which serves them.
 *
 * What no SIP system can save here: a call whose INVITE the dying instance had already answered
 * with a provisional (its own 100 Trying goes out at once, so the UAC stops retransmitting,
 * §17.1.1.2) but not yet handed over or answered finally. Nothing from the UAC follows to move the
 * balancer's session, and the INVITE (or its final response) died with the process. The test
 * allows only those: calls whose setup was in flight at the kill (offered, not yet ACKed), plus the
 * one INVITE the process may hold between its 100 Trying and its publish; and every lost call must
 * have ended before any final response to its INVITE (no established call is lost).
 */
import assert from 'node:assert/strict';
import type { LocalCluster } from '../../packages/cli/src/cluster/index.js';
import { formatCounts, serviceLogs, sippErrors, sleep, startCallLoad, startController, startFaultCluster, type CallLoad, type Controller } from '../support/cluster-harness.js';
import { UdpBalancer } from '../support/udp-balancer.js';

/** Index of the 200 to the INVITE in test/sipp/fault-call.xml (its header comment lists them). */
const FINAL_TO_INVITE = 7;

describe('fault: a transport instance is killed mid-call behind a UDP load balancer', function () {
  this.timeout(150_000);
  let cluster: LocalCluster | undefined;
  let controller: Controller | undefined;
  let balancer: UdpBalancer | undefined;
  let load: CallLoad | undefined;

  before(async () => {
    balancer = await UdpBalancer.start();
    cluster = await startFaultCluster({ sipTransports: ['udp'], advertise: `127.0.0.1:${balancer.port}` });
    balancer.setBackends(cluster.transports.map((t) => ({ host: '127.0.0.1', port: t.plan.sip.udp ?? 0, healthUrl: `${t.httpBase}/healthz` })));
    controller = await startController(cluster);
  });

  after(async () => {
    await load?.run.stop();
    load?.dispose();
    await controller?.close();
    await balancer?.close();
    await cluster?.stop();
  });

  it('SIGKILL of the transport in use: the balancer fails over, BYEs with the dead instance\'s flow token are answered (no established call lost)', async () => {
    const c = cluster as LocalCluster;
    const lb = balancer as UdpBalancer;
    // 20 calls/s for 15 s, each held 3 s: ~60 calls are up at the kill.
    load = await startCallLoad({ remote: `127.0.0.1:${lb.port}`, rate: 20, calls: 300, holdMs: 3000 });
    await sleep(6000);
    // SIPp sends from one port: one session, pinned to one backend; find it by the backends' traffic.
    const traffic = await Promise.all(c.transports.map(async (t) => (await t.metric('sipnats_transport_messages_in_total')) ?? 0));
    const victimIndex = (traffic[1] ?? 0) > (traffic[0] ?? 0) ? 1 : 0;
    const victim = c.transports[victimIndex];
    assert.ok(victim !== undefined && Math.max(...traffic) > 0, `traffic per transport: ${traffic.join('/')}`);
    const upAtKill = load.now();
    const inSetupAtKill = (controller as Controller).inSetup();
    await victim.kill();
    process.stdout.write(`      killed ${victim.instance} with ${upAtKill.answered - upAtKill.completed} calls up and ${inSetupAtKill} in setup\n`);
    const r = await load.done();
    process.stdout.write(`      ${formatCounts('transport killed', r)}\n`);
    process.stdout.write(`      balancer: ${JSON.stringify(lb.stats)}\n`);
    const detail = `${r.output}\n${sippErrors(load.dir)}\n${serviceLogs([...c.transports, ...c.uas])}`;
    assert.equal(r.attempted, 300, detail);
    assert.ok(lb.stats.failovers >= 1, 'the balancer moved the session to the surviving transport');
    // Every established call completes; only a call still in setup on the dead instance may be lost.
    assert.ok(r.lost <= inSetupAtKill + 1, `lost ${r.lost} > calls in setup at the kill ${inSetupAtKill} + 1\n${detail}`);
    const errors = sippErrors(load.dir, 10_000);
    const abortedAt = [...errors.matchAll(/receive timeout on message [^:\n]*:(\d+)|aborted at index (\d+)/g)].map((m) => Number(m[1] ?? m[2]));
    assert.ok(abortedAt.every((i) => i < FINAL_TO_INVITE), `a lost call got past its INVITE's final response: indexes ${abortedAt.join(', ')}\n${detail}`);
  });
});
