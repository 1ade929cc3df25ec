/**
 * JSON Patch (RFC 6902) for kustomize JSON 6902 patches: add, remove, replace, move, copy, test.
 * Paths are JSON Pointers (RFC 6901, `~0` / `~1` escapes); `-` appends to an array.
 */
import { isPlainObject, type Json } from './deploy-merge.js';

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: Json;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(path)} must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function index(arr: Json[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`bad array index ${JSON.stringify(token)}`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new Error(`array index ${i} out of range`);
  return i;
}

function parentOf(doc: Json, tokens: string[]): Json {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[index(node, t, false)] as Json;
    else if (isPlainObject(node) && t in node) node = node[t] as Json;
    else throw new Error(`path segment ${JSON.stringify(t)} does not exist`);
  }
  return node;
}

function get(doc: Json, path: string): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return doc;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) return parent[index(parent, last, false)] as Json;
  if (isPlainObject(parent) && last in parent) return parent[last] as Json;
  throw new Error(`path ${path} does not exist`);
}

function remove(doc: Json, path: string): void {
  const tokens = pointer(path);
  if (tokens.length === 0) throw new Error('cannot remove the whole document');
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) parent.splice(index(parent, last, false), 1);
  else if (isPlainObject(parent) && last in parent) delete parent[last];
  else throw new Error(`path ${path} does not exist`);
}

function add(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = index(parent, last, !replace);
    parent.splice(i, replace ? 1 : 0, value);
  } else if (isPlainObject(parent)) {
    if (replace && !(last in parent)) throw new Error(`path ${path} does not exist`);
    parent[last] = value;
  } else {
    throw new Error(`parent of ${path} is not a container`);
  }
  return doc;
}

/** Returns a patched copy of `doc`; throws on any failed operation (the patch is atomic). */
export function applyJsonPatch<T extends Json>(doc: T, ops: readonly JsonPatchOp[]): T {
  let out: Json = structuredClone(doc);
  for (const op of ops) {
    if (!isPlainObject(op as unknown) || typeof op.path !== 'string') throw new Error('every JSON patch operation needs op and path');
    switch (op.op) {
      case 'add':
      case 'replace':
        if (op.value === undefined) throw new Error(`${op.op} ${op.path}: value is required`);
        out = add(out, op.path, structuredClone(op.value), op.op === 'replace');
        break;
      case 'remove':
        remove(out, op.path);
        break;
      case 'move':
      case 'copy': {
        if (op.from === undefined) throw new Error(`${op.op} ${op.path}: from is required`);
        const value = structuredClone(get(out, op.from));
        if (op.op === 'move') remove(out, op.from);
        out = add(out, op.path, value, false);
        break;
      }
      case 'test':
        if (JSON.stringify(get(out, op.path)) !== JSON.stringify(op.value)) throw new Error(`test ${op.path} failed`);
        break;
      default:
        throw new Error(`unknown JSON patch op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }
  return out as T;
}
