import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCluster } from '../src/cluster/cluster-plan.ts';
import { natsAuthFromDeploy, noNatsAuth } from '../src/cluster/nats-auth.ts';
import { describeCluster } from '../src/cluster/describe.ts';
import { sumMetric } from '../src/cluster/service-node.ts';

const ports = {
  nats: [
    { client: 4001, cluster: 5001, monitor: 6001 },
    { client: 4002, cluster: 5002, monitor: 6002 },
    { client: 4003, cluster: 5003, monitor: 6003 },
  ],
  transports: [
    { sip: 7001, http: 8001 },
    { sip: 7002, http: 8002 },
  ],
  uas: [{ http: 9001 }, { http: 9002 }],
};

const base = {
  host: '127.0.0.1',
  stateDir: '/tmp/state',
  repoRoot: '/repo',
  ports,
  auth: noNatsAuth(),
  routingSecret: 'routing-secret-0123456789',
  authSecret: 'auth-secret-0123456789',
  path: '/usr/bin:/bin',
  logLevel: 'warn',
};

describe('sipnats up --cluster: the topology plan', () => {
  it('routes every NATS node to the other two, with its own name, store and monitor port', () => {
    const plan = planCluster(base);
    assert.deepEqual(plan.natsUrls, ['nats://127.0.0.1:4001', 'nats://127.0.0.1:4002', 'nats://127.0.0.1:4003']);
    const [n1] = plan.nats;
    assert.ok(n1 !== undefined);
    assert.equal(n1.name, 'sn-nats-1');
    assert.equal(n1.storeDir, '/tmp/state/sn-nats-1/jetstream');
    assert.match(n1.config, /^server_name: sn-nats-1$/m);
    assert.match(n1.config, /^listen: 127\.0\.0\.1:4001$/m);
    assert.match(n1.config, /^http: 127\.0\.0\.1:6001$/m);
    assert.match(n1.config, /listen: 127\.0\.0\.1:5001/);
    assert.match(n1.config, /nats-route:\/\/127\.0\.0\.1:5002/);
    assert.match(n1.config, /nats-route:\/\/127\.0\.0\.1:5003/);
    assert.doesNotMatch(n1.config, /nats-route:\/\/127\.0\.0\.1:5001/);
    assert.match(n1.config, /store_dir: "\/tmp\/state\/sn-nats-1\/jetstream"/);
  });

  it('gives transports distinct ids and ports, one shared secret, all three NATS URLs', () => {
    const plan = planCluster({ ...base, advertise: '127.0.0.1:5999' });
    const [t1, t2] = plan.transports;
    assert.ok(t1 !== undefined && t2 !== undefined);
    assert.notEqual(t1.instance, t2.instance);
    assert.equal(t1.env['SIP_LISTEN'], 'udp:127.0.0.1:7001,tcp:127.0.0.1:7001');
    assert.equal(t2.env['HTTP_LISTEN'], '127.0.0.1:8002');
    assert.equal(t1.env['SIPNATS_SECRET'], t2.env['SIPNATS_SECRET']);
    assert.equal(t1.env['NATS_URL'], plan.natsUrls.join(','));
    assert.equal(t1.env['SIP_ADVERTISE'], '127.0.0.1:5999');
    assert.equal(t1.main, '/repo/services/transport/dist/main.js');
    assert.deepEqual(t1.nodeArgs, ['--single-threaded-gc'], 'the transport runs with single-threaded GC');
    assert.deepEqual(plan.uas[0]?.nodeArgs, []);
  });

  it('creates the ua KV buckets with 3 replicas (fewer only with fewer nodes)', () => {
    const plan = planCluster(base);
    for (const u of plan.uas) assert.equal(u.env['SIPNATS_KV_REPLICAS'], '3');
    const single = planCluster({ ...base, ports: { ...ports, nats: [{ client: 4001, cluster: 5001, monitor: 6001 }] } });
    assert.equal(single.kvReplicas, 1);
    assert.doesNotMatch(single.nats[0]?.config ?? '', /cluster \{/);
  });

  it('plugs deploy/nats users in: include relative to each config, passwords in the server env, one user per service', () => {
    const repo = mkdtempSync(join(tmpdir(), 'sipnats-plan-'));
    try {
      mkdirSync(join(repo, 'deploy', 'nats'), { recursive: true });
      writeFileSync(join(repo, 'deploy', 'nats', 'accounts.conf'), 'accounts {}\n');
      const auth = natsAuthFromDeploy(repo);
      assert.ok(auth !== undefined);
      const plan = planCluster({ ...base, repoRoot: repo, stateDir: join(repo, 'state'), auth });
      assert.match(plan.nats[0]?.config ?? '', /include "\.\.\/\.\.\/deploy\/nats\/accounts\.conf"/);
      assert.equal(plan.transports[0]?.env['NATS_USER'], 'transport');
      assert.equal(plan.uas[0]?.env['NATS_USER'], 'ua');
      assert.equal(plan.transports[0]?.env['NATS_PASSWORD'], auth.serverEnv['NATS_TRANSPORT_PASSWORD']);
      assert.match(auth.serverEnv['NATS_UA_PASSWORD'] ?? '', /^p[0-9a-f]{32}$/);
      assert.equal(natsAuthFromDeploy(join(repo, 'nowhere')), undefined);
      assert.match(describeCluster(plan, auth.mode), /deploy\/nats\/accounts\.conf/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('prints where SIP, NATS and /metrics listen', () => {
    const text = describeCluster(planCluster(base), 'none');
    assert.match(text, /nats:\/\/127\.0\.0\.1:4002/);
    assert.match(text, /udp:127\.0\.0\.1:7002/);
    assert.match(text, /http:\/\/127\.0\.0\.1:9001\/metrics/);
  });

  it('sums Prometheus series by label', () => {
    const text = 'a_total{x="1",y="2"} 3\na_total{x="2"} 4\na_total_other 9\n# HELP a_total\n';
    assert.equal(sumMetric(text, 'a_total'), 7);
    assert.equal(sumMetric(text, 'a_total', { x: '1' }), 3);
  });
});
