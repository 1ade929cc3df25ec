/**
 * The manifest checks of test/support/deploy-checks.ts and deploy-env.ts find the faults they
 * are meant to find (so a green deploy-manifests test means something).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setting } from '@sipnats/config';
import {
  disruptionAndScalingProblems,
  namespaceProblems,
  networkPolicyProblems,
  probeProblems,
  referenceProblems,
  schemaProblems,
  selects,
  serviceProblems,
  workloads,
} from '../support/deploy-checks.js';
import { containerEnv, expandVars, serviceConfigProblems } from '../support/deploy-env.js';
import type { Manifest } from '../support/deploy-kustomize.js';
import type { JsonObject } from '../support/deploy-merge.js';

function deployment(): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'demo' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', tier: 'front' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'example/web:1',
              ports: [
                { name: 'http', containerPort: 8080, protocol: 'TCP' },
                { name: 'sip', containerPort: 5060, protocol: 'UDP' },
              ],
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
              envFrom: [{ configMapRef: { name: 'cfg' } }],
              env: [
                { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
                { name: 'ADDR', value: '$(HOST):$(PORT)' },
                { name: 'KEY', valueFrom: { secretKeyRef: { name: 'sec', key: 'key' } } },
              ],
              volumeMounts: [{ name: 'files', mountPath: '/etc/web' }],
            },
          ],
          volumes: [{ name: 'files', secret: { secretName: 'sec' } }],
        },
      },
    },
  };
}

const configMap: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'demo' }, data: { PORT: '5060' } };
const secret: Manifest = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'sec', namespace: 'demo' },
  data: { key: Buffer.from('0123456789abcdef').toString('base64'), 'users.txt': Buffer.from('alice').toString('base64') },
};

function service(selector: Record<string, string>, targetPort: string | number, protocol = 'TCP'): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'svc', namespace: 'demo' },
    spec: { selector, ports: [{ port: 80, targetPort, protocol }] },
  };
}

describe('deploy manifest checks', function () {
  it('rejects objects that break the Kubernetes API schema, and unknown kinds', async function () {
    const bad = deployment();
    (((bad.spec as JsonObject).template as JsonObject).spec as JsonObject).containers = [{ name: 'web', image: 'x', ports: [{ containerPort: 'http' }] }];
    const problems = await schemaProblems([bad, { apiVersion: 'v9', kind: 'Nope', metadata: { name: 'n' } }]);
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /Deployment\/web: .*containerPort must be integer/);
    assert.match(problems[1] ?? '', /unknown apiVersion\/kind v9 Nope/);
    assert.deepEqual(await schemaProblems([deployment(), configMap, secret]), []);
  });

  it('matches label selectors with matchLabels and matchExpressions', function () {
    const labels = { app: 'web', tier: 'front' };
    assert.ok(selects({ matchLabels: { app: 'web' } }, labels));
    assert.ok(selects({}, labels));
    assert.ok(selects({ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] }, labels));
    assert.ok(!selects({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, labels));
    assert.ok(!selects({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels));
    assert.ok(!selects({ matchLabels: { app: 'db' } }, labels));
  });

  it('finds Services that select nothing or target a missing port or protocol', function () {
    assert.deepEqual(serviceProblems([deployment(), service({ app: 'web' }, 'http')]), []);
    assert.deepEqual(serviceProblems([deployment(), service({ app: 'web' }, 5060, 'UDP')]), []);
    assert.match(serviceProblems([deployment(), service({ app: 'db' }, 'http')])[0] ?? '', /matches no workload/);
    assert.match(serviceProblems([deployment(), service({ app: 'web' }, 'metrics')])[0] ?? '', /targetPort metrics\/TCP is no container port/);
    assert.match(serviceProblems([deployment(), service({ app: 'web' }, 5060, 'TCP')])[0] ?? '', /5060\/TCP/);
  });

  it('finds probes on ports the container does not expose', function () {
    assert.deepEqual(probeProblems([deployment()]), []);
    const d = deployment();
    const c = ((((d.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[])[0] as JsonObject;
    c.livenessProbe = { httpGet: { path: '/healthz', port: 9999 } };
    assert.match(probeProblems([d])[0] ?? '', /livenessProbe port 9999 is no container port/);
  });

  it('finds references to missing ConfigMaps, Secrets, keys and volumes', function () {
    assert.deepEqual(referenceProblems([deployment(), configMap, secret]), []);
    const problems = referenceProblems([deployment(), { ...secret, data: {} }]);
    assert.ok(problems.some((p) => /ConfigMap cfg does not exist/.test(p)));
    assert.ok(problems.some((p) => /Secret sec has no key key/.test(p)));
  });

  it('finds PDBs and HPAs without a target, and NetworkPolicies that select nothing', function () {
    const pdb: Manifest = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec: { selector: { matchLabels: { app: 'db' } } } };
    const hpa: Manifest = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'other' } },
    };
    const problems = disruptionAndScalingProblems([deployment(), pdb, hpa]);
    assert.ok(problems.some((p) => /PodDisruptionBudget\/p: selects no workload's pods/.test(p)));
    assert.ok(problems.some((p) => /scaleTargetRef Deployment\/other does not exist/.test(p)));
    const np = (podSelector: JsonObject, port: number, protocol: string): Manifest => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'n' },
      spec: { podSelector, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port, protocol }] }] },
    });
    assert.deepEqual(networkPolicyProblems([deployment(), np({ matchLabels: { app: 'web' } }, 5060, 'UDP')]), []);
    assert.match(networkPolicyProblems([deployment(), np({ matchLabels: { app: 'db' } }, 5060, 'UDP')])[0] ?? '', /selects no pods/);
    assert.match(networkPolicyProblems([deployment(), np({ matchLabels: { app: 'web' } }, 5061, 'UDP')])[0] ?? '', /5061\/UDP is no container port/);
  });

  it('finds objects outside the namespace', function () {
    assert.deepEqual(namespaceProblems([deployment(), configMap], 'demo'), []);
    assert.match(namespaceProblems([{ ...configMap, metadata: { name: 'x' } }], 'demo')[0] ?? '', /namespace undefined instead of demo/);
  });

  it('resolves a container environment: envFrom, $(VAR) expansion, downward API, secrets and mounted files', function () {
    const ms = [deployment(), configMap, secret];
    const w = workloads(ms)[0];
    assert.ok(w);
    const c = (w.podSpec.containers as JsonObject[])[0] as JsonObject;
    const ce = containerEnv(ms, w, c);
    assert.deepEqual(ce.problems, []);
    assert.equal(ce.env.ADDR, '192.0.2.10:5060');
    assert.equal(ce.env.KEY, '0123456789abcdef');
    assert.equal(ce.files.get('/etc/web/users.txt'), 'alice');
    assert.equal(expandVars('$$(A) $(A) $(B)', { A: 'x' }), '$(A) x $(B)');
  });

  it("loads the service's settings spec from the container environment and reports what it rejects", function () {
    const scratch = mkdtempSync(join(tmpdir(), 'sipnats-checks-'));
    try {
      const ms = [deployment(), configMap, secret];
      const w = workloads(ms)[0];
      assert.ok(w);
      const ce = containerEnv(ms, w, (w.podSpec.containers as JsonObject[])[0] as JsonObject);
      const spec = {
        port: setting.int('PORT', { doc: 'port', min: 1 }),
        key: setting.string('KEY', { doc: 'key', secret: true }),
        users: setting.file('USERS', { doc: 'users', optional: true }),
        needed: setting.string('NEEDED', { doc: 'needed' }),
      };
      const { problems } = serviceConfigProblems(spec, undefined, { ...ce, env: { ...ce.env, USERS: '/etc/web/users.txt' } }, 'web', scratch);
      assert.deepEqual(problems, ['web: NEEDED: required but not set (needed)']);
      const unmounted = serviceConfigProblems(spec, undefined, { ...ce, env: { ...ce.env, NEEDED: 'y', USERS: '/etc/other' } }, 'web', scratch);
      assert.deepEqual(unmounted.problems, [
        'web: USERS=/etc/other is not a file mounted from a Secret or ConfigMap',
        'web: USERS: invalid value "/etc/other": file does not exist',
      ]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
