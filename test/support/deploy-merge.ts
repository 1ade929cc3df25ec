/**
 * Strategic merge patch, the subset deploy/k8s uses (see deploy-kustomize.ts): mappings merge
 * key by key, `null` deletes a key, `$patch: replace` replaces a mapping, `$patch: delete` on a
 * list element removes the matching element, and lists of named things merge by their
 * Kubernetes merge keys; every other list is replaced, as the API server does for atomic lists.
 */
export type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Merge keys of list fields, by field name. `ports` holds container ports (containerPort) or
 * Service ports (port); both are keyed together with the protocol, so UDP and TCP on the same
 * number stay apart.
 */
const MERGE_KEYS: Readonly<Record<string, (e: JsonObject) => string | undefined>> = {
  containers: (e) => str(e.name),
  initContainers: (e) => str(e.name),
  ephemeralContainers: (e) => str(e.name),
  env: (e) => str(e.name),
  volumes: (e) => str(e.name),
  volumeMounts: (e) => str(e.mountPath),
  imagePullSecrets: (e) => str(e.name),
  volumeClaimTemplates: (e) => (isPlainObject(e.metadata) ? str(e.metadata.name) : undefined),
  ports: (e) => {
    const n = e.containerPort ?? e.port;
    return typeof n === 'number' ? `${n}/${str(e.protocol) ?? 'TCP'}` : undefined;
  },
};

function str(v: Json | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

function mergeList(field: string, base: Json[], patch: Json[]): Json[] {
  const keyOf = MERGE_KEYS[field];
  if (keyOf === undefined || !base.every(isPlainObject) || !patch.every(isPlainObject)) {
    return patch.filter((e) => !(isPlainObject(e) && e.$patch !== undefined)).map(clone);
  }
  const out = (base as JsonObject[]).map((e) => clone(e));
  for (const p of patch as JsonObject[]) {
    const key = keyOf(p);
    if (key === undefined) throw new Error(`list ${field}: a patch element has no merge key`);
    const at = out.findIndex((e) => keyOf(e) === key);
    if (p.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = mergeObject(out[at] as JsonObject, p);
    else out.push(mergeObject({}, p));
  }
  return out;
}

function mergeObject(base: JsonObject, patch: JsonObject): JsonObject {
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return clone(rest);
  }
  if (patch.$patch !== undefined) throw new Error(`unsupported $patch: ${JSON.stringify(patch.$patch)}`);
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new Error(`unsupported directive ${key}`);
    const current = out[key];
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(current)) out[key] = mergeObject(current, value);
    else if (Array.isArray(value) && Array.isArray(current)) out[key] = mergeList(key, current, value);
    else out[key] = isPlainObject(value) ? mergeObject({}, value) : clone(value);
  }
  return out;
}

/** Returns `base` with the strategic merge `patch` applied (neither argument is changed). */
export function strategicMerge(base: JsonObject, patch: JsonObject): JsonObject {
  return mergeObject(base, patch);
}
