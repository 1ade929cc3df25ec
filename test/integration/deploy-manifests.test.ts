/**
 * deploy/k8s: every overlay renders offline (test/support/deploy-kustomize.ts, the kustomize
 * subset the manifests keep to), every object validates against the Kubernetes API schemas
 * (kubernetes-models), and the objects are wired together: Services, probes, NetworkPolicies,
 * PDBs and HPAs point at real pods and ports, and each service container carries an environment
 * that its own settings spec (@sipnats/config) accepts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsChecks, parseHostPort } from '@sipnats/config';
import { transportChecks, transportSettings } from '../../services/transport/src/config.js';
import { uaChecks, uaSettings } from '../../services/ua/src/config.js';
import {
  containers,
  disruptionAndScalingProblems,
  label,
  namespaceProblems,
  networkPolicyProblems,
  probeProblems,
  referenceProblems,
  schemaProblems,
  serviceProblems,
  workloads,
  type Workload,
} from '../support/deploy-checks.js';
import { containerEnv, FIELD_SAMPLES, serviceConfigProblems } from '../support/deploy-env.js';
import { renderKustomization, type Manifest } from '../support/deploy-kustomize.js';
import { isPlainObject, type JsonObject } from '../support/deploy-merge.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OVERLAYS = ['development', 'production', 'hostnetwork'] as const;
const NAMESPACE = 'sipnats';

function obj(v: unknown): JsonObject {
  return isPlainObject(v) ? v : {};
}

function find(ms: readonly Manifest[], kind: string, name: string): Manifest | undefined {
  return ms.find((m) => m.kind === kind && m.metadata.name === name);
}

function workloadOf(ms: readonly Manifest[], name: string): Workload {
  const w = workloads(ms).find((x) => x.manifest.metadata.name === name);
  assert.ok(w, `workload ${name} exists`);
  return w;
}

function mainContainer(w: Workload, name: string): JsonObject {
  const c = containers(w).find((x) => x.name === name);
  assert.ok(c, `${label(w.manifest)} has a container ${name}`);
  return c;
}

function durationSeconds(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  assert.ok(m?.[1], `duration ${value}`);
  const n = Number(m[1]);
  return m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
}

function preStopSleep(c: JsonObject): number {
  const command = obj(obj(obj(c.lifecycle).preStop).exec).command;
  return Array.isArray(command) && command[0] === 'sleep' ? Number(command[1]) : 0;
}

describe('deploy/k8s manifests', function () {
  let work: string;
  const rendered = new Map<string, Manifest[]>();

  before(function () {
    // Work on a copy: the secret files an operator supplies are written by gen-secrets.sh there.
    work = mkdtempSync(join(tmpdir(), 'sipnats-deploy-'));
    cpSync(join(repo, 'deploy'), join(work, 'deploy'), {
      recursive: true,
      filter: (src) => !src.includes(`${join('base', 'secrets')}/`) || /\/(README\.md|\.gitignore)$/.test(src),
    });
    execFileSync('sh', [join(work, 'deploy/k8s/gen-secrets.sh')], { stdio: 'ignore' });
    for (const overlay of OVERLAYS) rendered.set(overlay, renderKustomization(join(work, 'deploy/k8s/overlays', overlay)));
  });

  after(function () {
    rmSync(work, { recursive: true, force: true });
  });

  it('gen-secrets.sh writes every operator secret file with random values and keeps existing ones', function () {
    const dir = join(work, 'deploy/k8s/base/secrets');
    const users = readFileSync(join(dir, 'nats-users.env'), 'utf8');
    for (const user of ['transport', 'ua', 'fsshim', 'tools', 'sys']) assert.match(users, new RegExp(`^${user}=[A-Za-z][A-Za-z0-9]{31}$`, 'm'));
    const secrets = readFileSync(join(dir, 'sipnats.env'), 'utf8');
    assert.match(secrets, /^routing-secret=[A-Za-z][A-Za-z0-9]{31}$/m);
    assert.match(secrets, /^auth-secret=[A-Za-z][A-Za-z0-9]{31}$/m);
    execFileSync('sh', [join(work, 'deploy/k8s/gen-secrets.sh')], { stdio: 'ignore' });
    assert.equal(readFileSync(join(dir, 'nats-users.env'), 'utf8'), users, 'a second run keeps live secrets');
    execFileSync('sh', [join(work, 'deploy/k8s/gen-secrets.sh'), '--force'], { stdio: 'ignore' });
    assert.notEqual(readFileSync(join(dir, 'nats-users.env'), 'utf8'), users, '--force writes new ones');
    assert.throws(() => execFileSync('sh', [join(work, 'deploy/k8s/gen-secrets.sh'), '--bogus'], { stdio: 'ignore' }), 'unknown arguments are refused');
  });

  for (const overlay of OVERLAYS) {
    describe(`overlay ${overlay}`, function () {
      let ms: Manifest[];
      before(function () {
        ms = rendered.get(overlay) ?? [];
        assert.ok(ms.length > 0, `overlay ${overlay} rendered`);
      });

      it('validates every object against the Kubernetes API schemas', async function () {
        assert.deepEqual(await schemaProblems(ms), []);
      });

      it('puts every namespaced object into the sipnats namespace', function () {
        assert.ok(find(ms, 'Namespace', NAMESPACE));
        assert.deepEqual(namespaceProblems(ms, NAMESPACE), []);
      });

      it('wires Services to pods and ports, and the NATS StatefulSet to its headless Service', function () {
        assert.deepEqual(serviceProblems(ms), []);
      });

      it('probes only ports the containers expose, on /healthz and /readyz for the services', function () {
        assert.deepEqual(probeProblems(ms), []);
        for (const name of ['transport', 'ua']) {
          const c = mainContainer(workloadOf(ms, name), name);
          assert.equal(obj(obj(c.livenessProbe).httpGet).path, '/healthz');
          assert.equal(obj(obj(c.readinessProbe).httpGet).path, '/readyz');
        }
      });

      it('refers only to ConfigMaps, Secrets, keys and volumes that exist', function () {
        assert.deepEqual(referenceProblems(ms), []);
      });

      it('points PodDisruptionBudgets and HorizontalPodAutoscalers at existing workloads', function () {
        assert.deepEqual(disruptionAndScalingProblems(ms), []);
        const hpa = find(ms, 'HorizontalPodAutoscaler', 'ua');
        assert.equal(obj(obj(hpa?.spec).scaleTargetRef).name, 'ua');
        assert.ok(find(ms, 'PodDisruptionBudget', 'ua'));
        assert.ok(find(ms, 'PodDisruptionBudget', 'nats'));
      });

      it('has NetworkPolicies that select existing pods and ports', function () {
        assert.deepEqual(networkPolicyProblems(ms), []);
        const sip = find(ms, 'NetworkPolicy', 'transport-sip');
        assert.deepEqual(obj(obj(sip?.spec).podSelector).matchLabels, { 'app.kubernetes.io/name': 'transport' });
        const natsClients = find(ms, 'NetworkPolicy', 'nats-clients');
        const ingress = (obj(natsClients?.spec).ingress as JsonObject[] | undefined) ?? [];
        assert.ok(ingress.every((r) => Array.isArray(r.from) && r.from.length > 0), 'NATS takes clients only from listed peers');
      });

      it('gives transport an environment its settings spec accepts, with SIP ports exposed', function () {
        const scratch = join(work, 'scratch', overlay);
        const w = workloadOf(ms, 'transport');
        const c = mainContainer(w, 'transport');
        const ce = containerEnv(ms, w, c);
        const { problems, env } = serviceConfigProblems(
          transportSettings,
          [transportChecks, (cfg) => natsChecks(cfg.nats)],
          ce,
          `${overlay} transport`,
          scratch,
        );
        assert.deepEqual(problems, []);
        assert.equal(env.SIPNATS_INSTANCE_ID, FIELD_SAMPLES['metadata.name'], 'instance id from the pod name');
        assert.equal(env.NATS_USER, 'transport');
        assert.ok(env.SIPNATS_SECRET !== undefined && env.SIPNATS_SECRET.length >= 16, 'routing secret from the Secret');
        for (const item of (env.SIP_LISTEN ?? '').split(',')) {
          const [transport, ...rest] = item.split(':');
          const port = parseHostPort(rest.join(':')).port;
          const protocol = transport === 'udp' ? 'UDP' : 'TCP';
          const ports = (c.ports as JsonObject[] | undefined) ?? [];
          assert.ok(
            ports.some((p) => p.containerPort === port && (p.protocol ?? 'TCP') === protocol),
            `listener ${item} is a container port`,
          );
        }
        const ops = ((c.ports as JsonObject[] | undefined) ?? []).find((p) => p.name === 'ops');
        assert.equal(ops?.containerPort, parseHostPort(env.HTTP_LISTEN ?? '').port, 'HTTP_LISTEN is the probed ops port');
        assert.match(env.HTTP_LISTEN ?? '', /^0\.0\.0\.0:/, 'ops listener reachable by the kubelet');
        const grace = Number(obj(w.podSpec).terminationGracePeriodSeconds);
        assert.ok(grace >= preStopSleep(c) + durationSeconds(env.SIP_DRAIN_TIMEOUT ?? '32s') + 10, `grace ${grace}s covers preStop, drain and NATS drain`);
        assert.ok(durationSeconds(env.SIP_DRAIN_TIMEOUT ?? '32s') >= 32, 'drain outlasts a transaction (Timer B/F, 32 s)');
      });

      it('gives ua an environment its settings spec accepts, with the users file mounted', function () {
        const scratch = join(work, 'scratch', overlay);
        const w = workloadOf(ms, 'ua');
        const c = mainContainer(w, 'ua');
        const ce = containerEnv(ms, w, c);
        const { problems, env } = serviceConfigProblems(uaSettings, [uaChecks], ce, `${overlay} ua`, scratch);
        assert.deepEqual(problems, []);
        assert.equal(env.SIPNATS_INSTANCE_ID, FIELD_SAMPLES['metadata.name']);
        assert.equal(env.NATS_USER, 'ua');
        assert.ok(ce.files.has(ce.env.SIPNATS_USERS_FILE ?? ''), 'users file from the Secret');
        const grace = Number(obj(w.podSpec).terminationGracePeriodSeconds);
        assert.ok(grace >= preStopSleep(c) + durationSeconds(env.SIPNATS_DRAIN_TIMEOUT ?? '10s') + 5, `grace ${grace}s covers preStop and drain`);
      });

      it('runs every container non-root with requests and limits', function () {
        for (const w of workloads(ms)) {
          const pod = obj(w.podSpec.securityContext);
          assert.equal(pod.runAsNonRoot, true, `${label(w.manifest)} runs as non-root`);
          for (const c of containers(w)) {
            const r = obj(c.resources);
            assert.ok(obj(r.requests).cpu !== undefined && obj(r.requests).memory !== undefined, `${label(w.manifest)} ${String(c.name)} requests`);
            assert.ok(obj(r.limits).memory !== undefined, `${label(w.manifest)} ${String(c.name)} memory limit`);
            assert.equal(obj(c.securityContext).allowPrivilegeEscalation, false);
          }
        }
      });

      it('runs NATS as a 3-node JetStream cluster whose routes, storage and passwords line up', function () {
        const w = workloadOf(ms, 'nats');
        assert.equal(w.manifest.kind, 'StatefulSet');
        const replicas = Number(obj(w.manifest.spec).replicas);
        assert.equal(replicas, 3);
        const service = String(obj(w.manifest.spec).serviceName);
        const config = ms.find((m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith('nats-config-'));
        const conf = String(obj(config?.data)['nats.conf']);
        const routes = [...conf.matchAll(/nats:\/\/([a-z0-9-]+)\.([a-z0-9-]+):6222/g)];
        assert.deepEqual(
          routes.map((r) => `${r[1]}.${r[2]}`),
          Array.from({ length: replicas }, (_, i) => `nats-${i}.${service}`),
        );
        assert.match(conf, /store_dir: \/data\/jetstream/);
        const c = mainContainer(w, 'nats');
        const mounts = (c.volumeMounts as JsonObject[] | undefined) ?? [];
        assert.ok(mounts.some((m) => m.name === 'data' && m.mountPath === '/data'), 'JetStream store on the PVC');
        const claims = (obj(w.manifest.spec).volumeClaimTemplates as JsonObject[] | undefined) ?? [];
        assert.ok(claims.some((t) => obj(t.metadata).name === 'data'));
        const accounts = ms.find((m) => m.kind === 'Secret' && m.metadata.name.startsWith('sipnats-nats-accounts-'));
        const accountsConf = Buffer.from(String(obj(accounts?.data)['accounts.conf']), 'base64').toString('utf8');
        assert.equal(accountsConf, readFileSync(join(repo, 'deploy/nats/accounts.conf'), 'utf8'), 'the Secret carries deploy/nats/accounts.conf');
        assert.match(conf, /^include \.\.\/auth\/accounts\.conf$/m);
        assert.ok(mounts.some((m) => m.name === 'auth' && m.mountPath === '/etc/nats/auth'));
        // Every $VARIABLE the server config reads is set on the container.
        const env = containerEnv(ms, w, c);
        assert.deepEqual(env.problems, []);
        const vars = new Set([...`${conf}\n${accountsConf}`.replace(/#.*$/gm, '').matchAll(/:\s*\$([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string));
        for (const v of vars) assert.ok(env.env[v] !== undefined && env.env[v] !== '', `${v} is set on the NATS container`);
      });

      it('gives nats-server a configuration it accepts, as mounted and with the container environment', function () {
        const w = workloadOf(ms, 'nats');
        const c = mainContainer(w, 'nats');
        const ce = containerEnv(ms, w, c);
        const root = join(work, 'nats-root', overlay);
        for (const [path, content] of ce.files) {
          mkdirSync(dirname(join(root, path)), { recursive: true });
          writeFileSync(join(root, path), content);
        }
        const args = [...((c.command as string[] | undefined) ?? []), ...((c.args as string[] | undefined) ?? [])];
        const config = args[args.indexOf('--config') + 1];
        assert.ok(config !== undefined && ce.files.has(config), 'the --config file is mounted');
        const r = spawnSync('nats-server', ['-t', '-c', join(root, config)], { env: { PATH: process.env.PATH, ...ce.env }, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /is valid/);
      });
    });
  }

  it('production runs the transports behind UDP and TCP load balancers that keep client addresses', function () {
    const ms = rendered.get('production') ?? [];
    for (const [name, protocol] of [
      ['transport-udp', 'UDP'],
      ['transport-tcp', 'TCP'],
    ] as const) {
      const spec = obj(find(ms, 'Service', name)?.spec);
      assert.equal(spec.type, 'LoadBalancer');
      assert.equal(spec.externalTrafficPolicy, 'Local');
      assert.ok(((spec.ports as JsonObject[] | undefined) ?? []).every((p) => p.protocol === protocol));
    }
    const transport = containerEnv(ms, workloadOf(ms, 'transport'), mainContainer(workloadOf(ms, 'transport'), 'transport'));
    assert.equal(transport.env.SIPNATS_ENV, 'production');
    assert.ok(transport.env.SIP_ADVERTISE !== undefined, 'production advertises the load balancer address');
    const ua = containerEnv(ms, workloadOf(ms, 'ua'), mainContainer(workloadOf(ms, 'ua'), 'ua'));
    assert.equal(ua.env.SIPNATS_ENV, 'production');
    assert.equal(ua.env.SIPNATS_KV_REPLICAS, '3', 'KV buckets replicated over the 3 NATS servers');
    assert.equal(obj(find(ms, 'HorizontalPodAutoscaler', 'ua')?.spec).minReplicas, 3);
  });

  it('hostnetwork runs one transport per edge node on the host network, advertising the node address', function () {
    const ms = rendered.get('hostnetwork') ?? [];
    assert.equal(find(ms, 'Deployment', 'transport'), undefined);
    assert.equal(find(ms, 'Service', 'transport-udp'), undefined);
    assert.equal(find(ms, 'Service', 'transport-tcp'), undefined);
    const w = workloadOf(ms, 'transport');
    assert.equal(w.manifest.kind, 'DaemonSet');
    assert.equal(w.podSpec.hostNetwork, true);
    assert.equal(w.podSpec.dnsPolicy, 'ClusterFirstWithHostNet', 'cluster DNS (nats) still resolves');
    const env = containerEnv(ms, w, mainContainer(w, 'transport')).env;
    assert.equal(env.SIP_ADVERTISE, FIELD_SAMPLES['status.hostIP']);
    assert.equal(env.SIPNATS_INSTANCE_ID, FIELD_SAMPLES['metadata.name']);
  });

  it('development needs no cloud load balancer and relaxes production-only rules', function () {
    const ms = rendered.get('development') ?? [];
    assert.equal(obj(find(ms, 'Service', 'transport-udp')?.spec).type, 'NodePort');
    const env = containerEnv(ms, workloadOf(ms, 'transport'), mainContainer(workloadOf(ms, 'transport'), 'transport')).env;
    assert.equal(env.SIPNATS_ENV, 'development');
    assert.equal(env.SIP_ADVERTISE, undefined);
  });
});
