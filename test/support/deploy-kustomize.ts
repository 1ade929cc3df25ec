/**
 * An offline renderer for the subset of kustomize that deploy/k8s uses, so the test can build
 * every overlay without a `kustomize` or `kubectl` binary. What it accepts is a strict subset of
 * `kustomize build` (kustomize.config.k8s.io/v1beta1); anything else is refused with an error
 * naming the field, so the manifests cannot drift outside what is checked here:
 *
 * - `resources`: YAML files inside the kustomization directory, or directories holding a
 *   kustomization (anywhere, like bases), built recursively.
 * - `namespace`: set on every namespaced resource.
 * - `labels`: `pairs` added to metadata (and pod templates with `includeTemplates`);
 *   `includeSelectors: true` is refused (selectors are kept as written).
 * - `images`: `name` → `newName` / `newTag` / `digest` on containers and initContainers.
 * - `configMapGenerator` / `secretGenerator`: `files` (`key=path` or `path`), `envs`, `literals`,
 *   `behavior` create / merge / replace, `type` for Secrets, `options` and `generatorOptions`
 *   (`labels`, `annotations`, `disableNameSuffixHash`). Generated names get a content hash
 *   suffix at the end of the build, and references to them in pod specs are rewritten.
 * - `patches`: strategic merge (by kind and name, or by `target`) and JSON 6902 (with `target`),
 *   from `path` or inline `patch`; `$patch: delete` / `replace`, `null` deletes a field, lists of
 *   containers, env, volumes, mounts and ports merge by their keys.
 *
 * Files are read as kustomize's default load restrictor allows: generator and patch files and
 * resource files must lie inside the kustomization's own directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyJsonPatch, type JsonPatchOp } from './deploy-json-patch.js';
import { strategicMerge, isPlainObject, type Json, type JsonObject } from './deploy-merge.js';

export class KustomizeError extends Error {
  readonly code = 'DEPLOY_KUSTOMIZE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KustomizeError';
  }
}

/** One rendered Kubernetes object. */
export type Manifest = JsonObject & { apiVersion: string; kind: string; metadata: JsonObject & { name: string; namespace?: string } };

interface Item {
  obj: Manifest;
  /** Name before the hash suffix (what overlays and patches refer to). */
  name: string;
  generated: boolean;
  hash: boolean;
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'images',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'patches',
]);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
]);
const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

function fail(message: string, cause?: unknown): never {
  throw new KustomizeError(message, cause === undefined ? undefined : { cause });
}

function kustomizationFile(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
}

/** Parses every non-empty YAML document of a file. */
export function parseYamlDocuments(text: string, where: string): Json[] {
  const out: Json[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) fail(`${where}: YAML error: ${doc.errors[0]?.message ?? 'unknown'}`);
    const value = doc.toJS() as Json;
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** Resolves `file` relative to `root`, refusing paths outside it (kustomize LoadRestrictionsRootOnly). */
function inRoot(root: string, file: string, what: string): string {
  if (isAbsolute(file)) fail(`${root}: ${what} ${file}: absolute paths are not allowed`);
  const full = resolve(root, file);
  const rel = relative(root, full);
  if (rel.startsWith('..') || isAbsolute(rel)) fail(`${root}: ${what} ${file} is outside the kustomization directory`);
  if (!existsSync(full)) fail(`${root}: ${what} ${file} does not exist`);
  return full;
}

function asManifest(value: Json, where: string): Manifest {
  if (!isPlainObject(value)) fail(`${where}: a resource must be a mapping`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') fail(`${where}: a resource needs apiVersion and kind`);
  if (!isPlainObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') fail(`${where}: ${kind} needs metadata.name`);
  return value as Manifest;
}

function idOf(m: Manifest, name?: string): string {
  const group = m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '';
  return `${group}/${m.kind}/${m.metadata.namespace ?? ''}/${name ?? m.metadata.name}`;
}

function strings(value: Json | undefined, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(`${where} must be a list of strings`);
  return value as string[];
}

function stringMap(value: Json | undefined, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) fail(`${where} must map strings to strings`);
  return value as Record<string, string>;
}

/** KEY=VALUE lines; blank lines and `#` comments skipped; the value is taken as written. */
export function parseEnvFile(text: string, where: string): [string, string][] {
  const out: [string, string][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq).trim();
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) fail(`${where}:${i + 1}: expected KEY=VALUE`);
    out.push([key, line.slice(eq + 1)]);
  });
  return out;
}

function generatorData(root: string, g: JsonObject, where: string): Map<string, string> {
  const data = new Map<string, string>();
  const put = (k: string, v: string): void => {
    if (data.has(k)) fail(`${where}: key ${k} given twice`);
    data.set(k, v);
  };
  for (const lit of strings(g.literals, `${where}.literals`)) {
    const eq = lit.indexOf('=');
    if (eq <= 0) fail(`${where}: literal ${JSON.stringify(lit)} is not KEY=VALUE`);
    put(lit.slice(0, eq), lit.slice(eq + 1));
  }
  for (const env of strings(g.envs, `${where}.envs`)) {
    const file = inRoot(root, env, 'env file');
    for (const [k, v] of parseEnvFile(readFileSync(file, 'utf8'), file)) put(k, v);
  }
  for (const spec of strings(g.files, `${where}.files`)) {
    const eq = spec.indexOf('=');
    const key = eq < 0 ? basename(spec) : spec.slice(0, eq);
    const file = inRoot(root, eq < 0 ? spec : spec.slice(eq + 1), 'file');
    if (!statSync(file).isFile()) fail(`${where}: ${spec} is not a file`);
    put(key, readFileSync(file, 'utf8'));
  }
  return data;
}

function buildGenerated(kind: 'ConfigMap' | 'Secret', g: JsonObject, data: Map<string, string>, options: JsonObject, where: string): Item {
  if (typeof g.name !== 'string' || g.name === '') fail(`${where}: name is required`);
  const local = isPlainObject(g.options) ? g.options : {};
  const labels = { ...stringMap(options.labels, `${where} generatorOptions.labels`), ...stringMap(local.labels, `${where}.options.labels`) };
  const annotations = {
    ...stringMap(options.annotations, `${where} generatorOptions.annotations`),
    ...stringMap(local.annotations, `${where}.options.annotations`),
  };
  const metadata: Manifest['metadata'] = { name: g.name };
  if (typeof g.namespace === 'string') metadata.namespace = g.namespace;
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const obj: Manifest = { apiVersion: 'v1', kind, metadata };
  if (kind === 'Secret') {
    obj.type = typeof g.type === 'string' ? g.type : 'Opaque';
    obj.data = Object.fromEntries([...data].map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
  } else {
    obj.data = Object.fromEntries(data);
  }
  const noHash = local.disableNameSuffixHash ?? options.disableNameSuffixHash;
  return { obj, name: g.name, generated: true, hash: noHash !== true };
}

function runGenerators(root: string, k: JsonObject, items: Item[]): void {
  const options = isPlainObject(k.generatorOptions) ? k.generatorOptions : {};
  for (const [field, kind] of [
    ['configMapGenerator', 'ConfigMap'],
    ['secretGenerator', 'Secret'],
  ] as const) {
    const list = k[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) fail(`${root}: ${field} must be a list`);
    list.forEach((g, i) => {
      const where = `${root}: ${field}[${i}]`;
      if (!isPlainObject(g)) fail(`${where} must be a mapping`);
      const behavior = g.behavior ?? 'create';
      const data = generatorData(root, g, where);
      const existing = items.find((it) => it.generated && it.obj.kind === kind && it.name === g.name);
      if (behavior === 'create') {
        if (existing !== undefined) fail(`${where}: ${kind} ${String(g.name)} already exists (use behavior merge or replace)`);
        items.push(buildGenerated(kind, g, data, options, where));
        return;
      }
      if (behavior !== 'merge' && behavior !== 'replace') fail(`${where}: behavior must be create, merge or replace`);
      if (existing === undefined) fail(`${where}: behavior ${behavior} needs a ${kind} ${String(g.name)} from a base`);
      if (kind === 'Secret' && typeof g.type === 'string' && g.type !== existing.obj.type) fail(`${where}: a merge cannot change the Secret type`);
      const encode = (v: string): string => (kind === 'Secret' ? Buffer.from(v, 'utf8').toString('base64') : v);
      const merged: JsonObject = behavior === 'merge' && isPlainObject(existing.obj.data) ? { ...existing.obj.data } : {};
      for (const [key, v] of data) merged[key] = encode(v);
      existing.obj.data = merged;
    });
  }
}

function loadResources(root: string, k: JsonObject, stack: string[]): Item[] {
  const items: Item[] = [];
  for (const entry of strings(k.resources, `${root}: resources`)) {
    const full = resolve(root, entry);
    if (!existsSync(full)) fail(`${root}: resource ${entry} does not exist`);
    if (statSync(full).isDirectory()) {
      items.push(...buildDir(full, stack));
      continue;
    }
    const file = inRoot(root, entry, 'resource');
    parseYamlDocuments(readFileSync(file, 'utf8'), file).forEach((doc, i) => {
      const obj = asManifest(doc, `${file} document ${i + 1}`);
      items.push({ obj, name: obj.metadata.name, generated: false, hash: false });
    });
  }
  return items;
}

interface Target {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

function matches(it: Item, t: Target): boolean {
  const [group, version] = it.obj.apiVersion.includes('/') ? it.obj.apiVersion.split('/') : ['', it.obj.apiVersion];
  return (
    (t.group === undefined || t.group === group) &&
    (t.version === undefined || t.version === version) &&
    (t.kind === undefined || t.kind === it.obj.kind) &&
    (t.name === undefined || t.name === it.name) &&
    (t.namespace === undefined || t.namespace === (it.obj.metadata.namespace ?? ''))
  );
}

function applyPatches(root: string, k: JsonObject, items: Item[]): Item[] {
  const list = k.patches;
  if (list === undefined || list === null) return items;
  if (!Array.isArray(list)) fail(`${root}: patches must be a list`);
  let out = items;
  list.forEach((p, i) => {
    const where = `${root}: patches[${i}]`;
    if (!isPlainObject(p)) fail(`${where} must be a mapping`);
    let text: string;
    if (typeof p.path === 'string') text = readFileSync(inRoot(root, p.path, 'patch'), 'utf8');
    else if (typeof p.patch === 'string') text = p.patch;
    else fail(`${where}: give path or patch`);
    const target: Target | undefined = isPlainObject(p.target) ? (p.target as Target) : undefined;
    if (target !== undefined) {
      for (const key of Object.keys(target)) {
        if (!['group', 'version', 'kind', 'name', 'namespace'].includes(key)) fail(`${where}: target.${key} is not supported`);
      }
    }
    const docs = parseYamlDocuments(text, where);
    if (docs.length === 1 && Array.isArray(docs[0])) {
      if (target === undefined) fail(`${where}: a JSON 6902 patch needs a target`);
      const hits = out.filter((it) => matches(it, target));
      if (hits.length === 0) fail(`${where}: the target matches no resource`);
      for (const it of hits) {
        try {
          it.obj = asManifest(applyJsonPatch(it.obj, docs[0] as unknown as JsonPatchOp[]), where);
        } catch (e) {
          fail(`${where}: ${(e as Error).message}`, e);
        }
      }
      return;
    }
    for (const doc of docs) {
      if (!isPlainObject(doc)) fail(`${where}: a strategic merge patch must be a mapping`);
      const meta = isPlainObject(doc.metadata) ? doc.metadata : {};
      const t: Target = target ?? { kind: typeof doc.kind === 'string' ? doc.kind : '', name: typeof meta.name === 'string' ? meta.name : '' };
      const hits = out.filter((it) => matches(it, t));
      if (hits.length === 0) fail(`${where}: no resource ${t.kind ?? '*'}/${t.name ?? '*'} to patch`);
      if (doc.$patch === 'delete') {
        out = out.filter((it) => !hits.includes(it));
        continue;
      }
      for (const it of hits) {
        // The patch's own name/kind identify the target; they never rename it.
        const body: JsonObject = { ...doc };
        delete body.apiVersion;
        delete body.kind;
        if (isPlainObject(body.metadata)) {
          const m = { ...body.metadata };
          delete m.name;
          delete m.namespace;
          body.metadata = m;
        }
        it.obj = asManifest(strategicMerge(it.obj, body), where);
      }
    }
  });
  return out;
}

function eachPodSpec(m: Manifest, fn: (spec: JsonObject, template: JsonObject) => void): void {
  let template: Json | undefined;
  if (POD_TEMPLATE_KINDS.has(m.kind) && isPlainObject(m.spec)) template = m.spec.template;
  else if (m.kind === 'CronJob' && isPlainObject(m.spec) && isPlainObject(m.spec.jobTemplate) && isPlainObject(m.spec.jobTemplate.spec)) {
    template = m.spec.jobTemplate.spec.template;
  }
  if (isPlainObject(template) && isPlainObject(template.spec)) fn(template.spec, template);
  if (m.kind === 'Pod' && isPlainObject(m.spec)) fn(m.spec, m);
}

function containersOf(spec: JsonObject): JsonObject[] {
  const all: JsonObject[] = [];
  for (const field of ['initContainers', 'containers'] as const) {
    const list = spec[field];
    if (Array.isArray(list)) for (const c of list) if (isPlainObject(c)) all.push(c);
  }
  return all;
}

/** Splits `repo/name:tag@sha256:...` into the name and the rest. */
function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  const hasTag = colon > ref.lastIndexOf('/');
  const out: { name: string; tag?: string; digest?: string } = { name: hasTag ? ref.slice(0, colon) : ref };
  if (hasTag) out.tag = ref.slice(colon + 1);
  if (digest !== undefined) out.digest = digest;
  return out;
}

function applyImages(root: string, k: JsonObject, items: Item[]): void {
  const list = k.images;
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) fail(`${root}: images must be a list`);
  for (const rule of list) {
    if (!isPlainObject(rule) || typeof rule.name !== 'string') fail(`${root}: every images entry needs a name`);
    for (const it of items) {
      eachPodSpec(it.obj, (spec) => {
        for (const c of containersOf(spec)) {
          if (typeof c.image !== 'string') continue;
          const img = splitImage(c.image);
          if (img.name !== rule.name) continue;
          const name = typeof rule.newName === 'string' ? rule.newName : img.name;
          if (typeof rule.digest === 'string') c.image = `${name}@${rule.digest}`;
          else if (typeof rule.newTag === 'string') c.image = `${name}:${rule.newTag}`;
          else c.image = `${name}${img.tag === undefined ? '' : `:${img.tag}`}${img.digest === undefined ? '' : `@${img.digest}`}`;
        }
      });
    }
  }
}

function applyLabels(root: string, k: JsonObject, items: Item[]): void {
  const list = k.labels;
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) fail(`${root}: labels must be a list`);
  for (const rule of list) {
    if (!isPlainObject(rule)) fail(`${root}: every labels entry must be a mapping`);
    if (rule.includeSelectors === true) fail(`${root}: labels.includeSelectors is not supported (selectors stay as written)`);
    const pairs = stringMap(rule.pairs, `${root}: labels.pairs`);
    for (const it of items) {
      it.obj.metadata.labels = { ...(isPlainObject(it.obj.metadata.labels) ? it.obj.metadata.labels : {}), ...pairs };
      if (rule.includeTemplates === true) {
        eachPodSpec(it.obj, (_spec, template) => {
          const meta = isPlainObject(template.metadata) ? template.metadata : (template.metadata = {});
          meta.labels = { ...(isPlainObject(meta.labels) ? meta.labels : {}), ...pairs };
        });
      }
    }
  }
}

function checkUnique(root: string, items: Item[]): void {
  const seen = new Set<string>();
  for (const it of items) {
    const id = idOf(it.obj, it.name);
    if (seen.has(id)) fail(`${root}: resource ${id} is defined twice`);
    seen.add(id);
  }
}

function buildDir(dir: string, stack: string[]): Item[] {
  const file = kustomizationFile(dir);
  if (file === undefined) fail(`${dir}: no kustomization.yaml`);
  if (stack.includes(dir)) fail(`${dir}: kustomization cycle through ${stack.join(' -> ')}`);
  const docs = parseYamlDocuments(readFileSync(file, 'utf8'), file);
  const k = docs[0];
  if (docs.length !== 1 || !isPlainObject(k)) fail(`${file}: expected one mapping`);
  if (k.kind !== undefined && k.kind !== 'Kustomization') fail(`${file}: kind must be Kustomization`);
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) fail(`${file}: field ${key} is outside the supported kustomize subset (${[...SUPPORTED].join(', ')})`);
  }
  const root = dirname(file);
  let items = loadResources(root, k, [...stack, dir]);
  runGenerators(root, k, items);
  items = applyPatches(root, k, items);
  applyImages(root, k, items);
  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') fail(`${file}: namespace must be a string`);
    for (const it of items) if (!CLUSTER_SCOPED.has(it.obj.kind)) it.obj.metadata.namespace = k.namespace;
  }
  applyLabels(root, k, items);
  checkUnique(root, items);
  return items;
}

/** Kustomize's hash suffix alphabet trick: hex without the letters that spell words. */
function nameHash(m: Manifest): string {
  const hex = createHash('sha256')
    .update(JSON.stringify({ kind: m.kind, type: m.type ?? null, data: m.data ?? null, binaryData: m.binaryData ?? null }))
    .digest('hex')
    .slice(0, 10);
  return hex.replace(/[0-3ae]/g, (c) => ({ '0': 'g', '1': 'h', '2': '2', '3': 'k', a: 'm', e: 't' })[c] ?? c);
}

function renameRefs(items: Item[], kind: 'ConfigMap' | 'Secret', from: string, to: string, namespace: string | undefined): void {
  const fix = (o: Json | undefined, field: string): void => {
    if (isPlainObject(o) && o[field] === from) o[field] = to;
  };
  for (const it of items) {
    if (it.obj.metadata.namespace !== namespace) continue;
    eachPodSpec(it.obj, (spec) => {
      for (const c of containersOf(spec)) {
        for (const e of Array.isArray(c.env) ? c.env : []) {
          if (isPlainObject(e) && isPlainObject(e.valueFrom)) fix(kind === 'ConfigMap' ? e.valueFrom.configMapKeyRef : e.valueFrom.secretKeyRef, 'name');
        }
        for (const e of Array.isArray(c.envFrom) ? c.envFrom : []) {
          if (isPlainObject(e)) fix(kind === 'ConfigMap' ? e.configMapRef : e.secretRef, 'name');
        }
      }
      for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
        if (!isPlainObject(v)) continue;
        if (kind === 'ConfigMap') fix(v.configMap, 'name');
        else fix(v.secret, 'secretName');
        if (isPlainObject(v.projected) && Array.isArray(v.projected.sources)) {
          for (const s of v.projected.sources) if (isPlainObject(s)) fix(kind === 'ConfigMap' ? s.configMap : s.secret, 'name');
        }
      }
      if (kind === 'Secret') for (const s of Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets : []) fix(s, 'name');
    });
  }
}

/** Builds the kustomization in `dir` (like `kustomize build dir`) and returns the manifests. */
export function renderKustomization(dir: string): Manifest[] {
  const items = buildDir(resolve(dir), []);
  for (const it of items) {
    if (!it.hash) continue;
    const kind = it.obj.kind as 'ConfigMap' | 'Secret';
    const hashed = `${it.name}-${nameHash(it.obj)}`;
    it.obj.metadata.name = hashed;
    renameRefs(items, kind, it.name, hashed, it.obj.metadata.namespace);
  }
  return items.map((it) => it.obj);
}
