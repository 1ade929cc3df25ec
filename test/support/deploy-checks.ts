/**
 * Checks on rendered manifests (deploy-kustomize.ts output): Kubernetes API schema validation
 * with kubernetes-models, and the wiring between objects (selectors, ports, references,
 * targets). Each check returns a list of problems, empty when everything holds.
 */
import { isPlainObject, type Json, type JsonObject } from './deploy-merge.js';
import type { Manifest } from './deploy-kustomize.js';

export interface Workload {
  manifest: Manifest;
  /** Labels of the pods it creates. */
  podLabels: Record<string, string>;
  podSpec: JsonObject;
}

interface Validatable {
  validate(): void;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export function label(m: Manifest): string {
  return `${m.kind}/${m.metadata.name}`;
}

function obj(v: Json | undefined): JsonObject {
  return isPlainObject(v) ? v : {};
}

function list(v: Json | undefined): JsonObject[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

function strMap(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

export function workloads(ms: readonly Manifest[]): Workload[] {
  return ms
    .filter((m) => WORKLOAD_KINDS.has(m.kind))
    .map((m) => {
      const template = obj(obj(m.spec).template);
      return { manifest: m, podLabels: strMap(obj(template.metadata).labels), podSpec: obj(template.spec) };
    });
}

export function containers(w: Workload): JsonObject[] {
  return [...list(w.podSpec.initContainers), ...list(w.podSpec.containers)];
}

/** A LabelSelector (matchLabels and matchExpressions) against a label set. */
export function selects(selector: JsonObject, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(strMap(selector.matchLabels))) if (labels[k] !== v) return false;
  for (const e of list(selector.matchExpressions)) {
    const key = String(e.key);
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    const has = key in labels;
    const ok =
      e.operator === 'In'
        ? has && values.includes(labels[key] as string)
        : e.operator === 'NotIn'
          ? !has || !values.includes(labels[key] as string)
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** Validates every manifest against the schema of its apiVersion/kind (kubernetes-models). */
export async function schemaProblems(ms: readonly Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of ms) {
    const path = `kubernetes-models/${m.apiVersion}/${m.kind}`;
    let Model: new (data: unknown) => Validatable;
    try {
      const mod = (await import(path)) as Record<string, new (data: unknown) => Validatable>;
      const found = mod[m.kind];
      if (found === undefined) throw new Error('no model export');
      Model = found;
    } catch {
      problems.push(`${label(m)}: unknown apiVersion/kind ${m.apiVersion} ${m.kind}`);
      continue;
    }
    try {
      new Model(m).validate();
    } catch (e) {
      problems.push(`${label(m)}: ${(e as Error).message}`);
    }
  }
  return problems;
}

/** The container port a Service targetPort or probe port refers to (by name or number). */
function findPort(cs: readonly JsonObject[], port: Json | undefined, protocol: string): JsonObject | undefined {
  for (const c of cs) {
    for (const p of list(c.ports)) {
      const proto = typeof p.protocol === 'string' ? p.protocol : 'TCP';
      if (proto !== protocol) continue;
      if (typeof port === 'string' && p.name === port) return p;
      if (typeof port === 'number' && p.containerPort === port) return p;
    }
  }
  return undefined;
}

/** Every Service selects the pods of a workload, and every targetPort is a port of those pods. */
export function serviceProblems(ms: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const ws = workloads(ms);
  for (const s of ms.filter((m) => m.kind === 'Service')) {
    const spec = obj(s.spec);
    const selector = strMap(spec.selector);
    if (Object.keys(selector).length === 0) {
      problems.push(`${label(s)}: no selector`);
      continue;
    }
    const hits = ws.filter((w) => selects({ matchLabels: selector }, w.podLabels));
    if (hits.length === 0) {
      problems.push(`${label(s)}: selector ${JSON.stringify(selector)} matches no workload`);
      continue;
    }
    for (const p of list(spec.ports)) {
      const target = p.targetPort ?? p.port;
      const proto = typeof p.protocol === 'string' ? p.protocol : 'TCP';
      for (const w of hits) {
        if (findPort(containers(w), target, proto) === undefined) {
          problems.push(`${label(s)}: targetPort ${String(target)}/${proto} is no container port of ${label(w.manifest)}`);
        }
      }
    }
  }
  for (const w of ws.filter((x) => x.manifest.kind === 'StatefulSet')) {
    const name = obj(w.manifest.spec).serviceName;
    const svc = ms.find((m) => m.kind === 'Service' && m.metadata.name === name);
    if (svc === undefined || obj(svc.spec).clusterIP !== 'None') problems.push(`${label(w.manifest)}: serviceName ${String(name)} is not a headless Service`);
  }
  return problems;
}

/** Every httpGet/tcpSocket/grpc probe port is a container port of the same container. */
export function probeProblems(ms: readonly Manifest[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(ms)) {
    for (const c of list(w.podSpec.containers)) {
      for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
        const probe = obj(c[kind]);
        const handler = obj(probe.httpGet ?? probe.tcpSocket ?? probe.grpc);
        if (Object.keys(probe).length === 0) continue;
        if (handler.port === undefined) {
          if (probe.exec === undefined) problems.push(`${label(w.manifest)} ${String(c.name)}: ${kind} has no handler`);
          continue;
        }
        if (findPort([c], handler.port, 'TCP') === undefined) {
          problems.push(`${label(w.manifest)} ${String(c.name)}: ${kind} port ${String(handler.port)} is no container port`);
        }
      }
    }
  }
  return problems;
}

function findData(ms: readonly Manifest[], kind: 'ConfigMap' | 'Secret', name: Json | undefined, ns: string | undefined): JsonObject | undefined {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name && x.metadata.namespace === ns);
  return m === undefined ? undefined : { ...obj(m.data), ...obj(m.stringData) };
}

/** Every ConfigMap/Secret a pod refers to (env, envFrom, volumes) exists with the keys used. */
export function referenceProblems(ms: readonly Manifest[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(ms)) {
    const ns = w.manifest.metadata.namespace;
    const where = label(w.manifest);
    const need = (kind: 'ConfigMap' | 'Secret', name: Json | undefined, key: Json | undefined, optional: Json | undefined): void => {
      if (optional === true) return;
      const data = findData(ms, kind, name, ns);
      if (data === undefined) problems.push(`${where}: ${kind} ${String(name)} does not exist`);
      else if (key !== undefined && !(String(key) in data)) problems.push(`${where}: ${kind} ${String(name)} has no key ${String(key)}`);
    };
    for (const c of containers(w)) {
      for (const e of list(c.env)) {
        const from = obj(e.valueFrom);
        for (const [field, kind] of [
          ['configMapKeyRef', 'ConfigMap'],
          ['secretKeyRef', 'Secret'],
        ] as const) {
          if (isPlainObject(from[field])) need(kind, from[field].name, from[field].key, from[field].optional);
        }
      }
      for (const e of list(c.envFrom)) {
        if (isPlainObject(e.configMapRef)) need('ConfigMap', e.configMapRef.name, undefined, e.configMapRef.optional);
        if (isPlainObject(e.secretRef)) need('Secret', e.secretRef.name, undefined, e.secretRef.optional);
      }
      const volumes = new Set(list(w.podSpec.volumes).map((v) => v.name));
      const claims = new Set(list(obj(w.manifest.spec).volumeClaimTemplates).map((t) => obj(t.metadata).name));
      for (const m of list(c.volumeMounts)) {
        if (!volumes.has(m.name) && !claims.has(m.name)) problems.push(`${where} ${String(c.name)}: mount of unknown volume ${String(m.name)}`);
      }
    }
    for (const v of list(w.podSpec.volumes)) {
      if (isPlainObject(v.configMap)) {
        for (const it of list(v.configMap.items)) need('ConfigMap', v.configMap.name, it.key, v.configMap.optional);
        need('ConfigMap', v.configMap.name, undefined, v.configMap.optional);
      }
      if (isPlainObject(v.secret)) {
        for (const it of list(v.secret.items)) need('Secret', v.secret.secretName, it.key, v.secret.optional);
        need('Secret', v.secret.secretName, undefined, v.secret.optional);
      }
    }
  }
  return problems;
}

/** PDBs select the pods of a workload; HPAs scale an existing workload. */
export function disruptionAndScalingProblems(ms: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const ws = workloads(ms);
  for (const p of ms.filter((m) => m.kind === 'PodDisruptionBudget')) {
    const selector = obj(obj(p.spec).selector);
    if (!ws.some((w) => selects(selector, w.podLabels))) problems.push(`${label(p)}: selects no workload's pods`);
  }
  for (const h of ms.filter((m) => m.kind === 'HorizontalPodAutoscaler')) {
    const ref = obj(obj(h.spec).scaleTargetRef);
    const target = ws.find((w) => w.manifest.kind === ref.kind && w.manifest.metadata.name === ref.name && w.manifest.apiVersion === ref.apiVersion);
    if (target === undefined) problems.push(`${label(h)}: scaleTargetRef ${String(ref.kind)}/${String(ref.name)} does not exist`);
    else if (target.manifest.kind === 'DaemonSet') problems.push(`${label(h)}: cannot scale a DaemonSet`);
    else {
      const cpuMetric = list(obj(h.spec).metrics).some((m) => obj(m.resource).name === 'cpu');
      const requestsCpu = list(target.podSpec.containers).every((c) => obj(obj(c.resources).requests).cpu !== undefined);
      if (cpuMetric && !requestsCpu) problems.push(`${label(h)}: CPU utilization needs CPU requests on every container`);
    }
  }
  return problems;
}

/**
 * NetworkPolicies: the policy's podSelector, and each in-namespace podSelector peer, select
 * pods of some workload; numeric ports of an ingress rule are container ports of the selected pods.
 */
export function networkPolicyProblems(ms: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const ws = workloads(ms);
  for (const np of ms.filter((m) => m.kind === 'NetworkPolicy')) {
    const spec = obj(np.spec);
    const selector = obj(spec.podSelector);
    const own = ws.filter((w) => selects(selector, w.podLabels));
    if (own.length === 0) problems.push(`${label(np)}: podSelector selects no pods`);
    for (const [dir, peersField] of [
      ['ingress', 'from'],
      ['egress', 'to'],
    ] as const) {
      for (const rule of list(spec[dir])) {
        for (const peer of list(rule[peersField])) {
          if (isPlainObject(peer.podSelector) && peer.namespaceSelector === undefined && !ws.some((w) => selects(obj(peer.podSelector), w.podLabels))) {
            problems.push(`${label(np)}: ${dir} peer podSelector selects no pods`);
          }
        }
        if (dir !== 'ingress') continue;
        for (const p of list(rule.ports)) {
          const proto = typeof p.protocol === 'string' ? p.protocol : 'TCP';
          const served = own.filter((w) => findPort(containers(w), p.port, proto) !== undefined);
          if (served.length === 0) problems.push(`${label(np)}: port ${String(p.port)}/${proto} is no container port of the selected pods`);
        }
      }
    }
  }
  return problems;
}

/** Every namespaced object lives in `namespace`. */
export function namespaceProblems(ms: readonly Manifest[], namespace: string): string[] {
  return ms
    .filter((m) => m.kind !== 'Namespace' && m.metadata.namespace !== namespace)
    .map((m) => `${label(m)}: namespace ${String(m.metadata.namespace)} instead of ${namespace}`);
}
