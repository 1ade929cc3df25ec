/**
 * The environment a container of a rendered manifest would see (envFrom, env with `$(VAR)`
 * expansion, secret and ConfigMap values, downward API samples) and the files its Secret and
 * ConfigMap volumes mount; then the service's own settings spec (@sipnats/config) is loaded
 * from it, so a manifest passes only when the service would start with it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ConfigError, describeSettings, loadConfig, type LoadOptions, type SettingsSpec } from '@sipnats/config';
import { isPlainObject, type Json, type JsonObject } from './deploy-merge.js';
import type { Manifest } from './deploy-kustomize.js';
import { label, type Workload } from './deploy-checks.js';

/** Values the downward API would give, by fieldPath. */
export const FIELD_SAMPLES: Readonly<Record<string, string>> = {
  'metadata.name': 'transport-7f9c6b5d4-x2x7k',
  'metadata.namespace': 'sipnats',
  'metadata.uid': '0b5a2c64-8f0e-4c4e-9d7a-0f3f4b1f6c21',
  'spec.nodeName': 'node-1',
  'spec.serviceAccountName': 'default',
  'status.hostIP': '192.0.2.10',
  'status.podIP': '198.51.100.7',
};

export interface ContainerEnv {
  env: Record<string, string>;
  /** Mounted Secret/ConfigMap files: absolute path in the container → content. */
  files: Map<string, string>;
  problems: string[];
}

function obj(v: Json | undefined): JsonObject {
  return isPlainObject(v) ? v : {};
}
function list(v: Json | undefined): JsonObject[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

function dataOf(ms: readonly Manifest[], kind: 'ConfigMap' | 'Secret', name: Json | undefined, ns: string | undefined): Record<string, string> | undefined {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name && x.metadata.namespace === ns);
  if (m === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(m.data))) {
    if (typeof v === 'string') out[k] = kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
  }
  for (const [k, v] of Object.entries(obj(m.stringData))) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Kubernetes `$(VAR)` expansion: defined variables are substituted, `$$` escapes, others stay. */
export function expandVars(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) =>
    name === undefined ? '$' : (env[name] ?? all),
  );
}

export function containerEnv(ms: readonly Manifest[], w: Workload, container: JsonObject): ContainerEnv {
  const ns = w.manifest.metadata.namespace;
  const where = `${label(w.manifest)} ${String(container.name)}`;
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const e of list(container.envFrom)) {
    const kind = isPlainObject(e.configMapRef) ? 'ConfigMap' : 'Secret';
    const ref = obj(e.configMapRef ?? e.secretRef);
    const data = dataOf(ms, kind, ref.name, ns);
    if (data === undefined) problems.push(`${where}: envFrom ${kind} ${String(ref.name)} does not exist`);
    else for (const [k, v] of Object.entries(data)) env[`${typeof e.prefix === 'string' ? e.prefix : ''}${k}`] = v;
  }
  for (const e of list(container.env)) {
    const name = String(e.name);
    if (typeof e.value === 'string') {
      env[name] = expandVars(e.value, env);
      continue;
    }
    const from = obj(e.valueFrom);
    if (isPlainObject(from.fieldRef)) {
      const sample = FIELD_SAMPLES[String(from.fieldRef.fieldPath)];
      if (sample === undefined) problems.push(`${where}: ${name}: no sample for fieldRef ${String(from.fieldRef.fieldPath)}`);
      else env[name] = sample;
    } else if (isPlainObject(from.secretKeyRef) || isPlainObject(from.configMapKeyRef)) {
      const kind = isPlainObject(from.secretKeyRef) ? 'Secret' : 'ConfigMap';
      const ref = obj(from.secretKeyRef ?? from.configMapKeyRef);
      const v = dataOf(ms, kind, ref.name, ns)?.[String(ref.key)];
      if (v === undefined) problems.push(`${where}: ${name}: ${kind} ${String(ref.name)} key ${String(ref.key)} not found`);
      else env[name] = v;
    } else if (isPlainObject(from.resourceFieldRef)) {
      env[name] = '1';
    } else {
      problems.push(`${where}: ${name} has neither value nor a supported valueFrom`);
    }
  }
  const files = new Map<string, string>();
  const volumes = new Map(list(w.podSpec.volumes).map((v) => [String(v.name), v]));
  for (const m of list(container.volumeMounts)) {
    const v = volumes.get(String(m.name));
    if (v === undefined) continue;
    const kind = isPlainObject(v.secret) ? 'Secret' : isPlainObject(v.configMap) ? 'ConfigMap' : undefined;
    if (kind === undefined) continue;
    const source = obj(v.secret ?? v.configMap);
    const data = dataOf(ms, kind, kind === 'Secret' ? source.secretName : source.name, ns) ?? {};
    const items = list(source.items);
    const entries = items.length > 0 ? items.map((it) => [String(it.key), String(it.path)] as const) : Object.keys(data).map((k) => [k, k] as const);
    for (const [key, path] of entries) {
      const content = data[key];
      if (content === undefined) continue;
      const full = typeof m.subPath === 'string' ? (m.subPath === path ? String(m.mountPath) : undefined) : posix.join(String(m.mountPath), path);
      if (full !== undefined) files.set(full, content);
    }
  }
  return { env, files, problems };
}

/**
 * Loads `spec` (with its cross-checks) from the container's environment. File settings must
 * name a mounted Secret/ConfigMap file; its content is written to a temporary file for the load.
 * `scratch` is a directory (removed by the caller) for those files. Returns the problems (empty
 * when the service would accept its configuration) and the environment used.
 */
export function serviceConfigProblems<S extends SettingsSpec>(
  spec: S,
  checks: LoadOptions<S>['checks'],
  ce: ContainerEnv,
  where: string,
  scratch: string,
): { problems: string[]; env: Record<string, string> } {
  const problems = [...ce.problems];
  const env = { ...ce.env };
  for (const s of describeSettings(spec)) {
    const value = env[s.env];
    if (s.kind !== 'file' || value === undefined || value.trim() === '') continue;
    const content = ce.files.get(value.trim());
    if (content === undefined) {
      problems.push(`${where}: ${s.env}=${value} is not a file mounted from a Secret or ConfigMap`);
      continue;
    }
    mkdirSync(scratch, { recursive: true });
    const local = join(scratch, `${where.replace(/[^A-Za-z0-9-]/g, '_')}-${s.env}`);
    writeFileSync(local, content);
    env[s.env] = local;
  }
  try {
    loadConfig(spec, env, checks === undefined ? undefined : { checks });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems.map((p) => `${where}: ${p}`));
  }
  return { problems, env };
}
