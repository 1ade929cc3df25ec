/**
 * Storage of binding sets with compare-and-set, shaped after JetStream KV: `get` returns the
 * value with its revision, `put` with `expectedRevision` undefined is `kv.create` (fails when the
 * key exists), otherwise `kv.update(key, value, revision)`; `delete` is a revision-checked delete.
 */
import type { BindingSet } from './binding.js';

export interface StoredBindings {
  readonly value: BindingSet;
  readonly revision: number;
}

export interface BindingStore {
  get(aor: string): Promise<StoredBindings | undefined>;
  /** Resolves false when the revision check fails (someone else wrote first). */
  put(aor: string, value: BindingSet, expectedRevision: number | undefined): Promise<boolean>;
  /** Resolves false when the revision check fails. */
  delete(aor: string, expectedRevision: number): Promise<boolean>;
}

/**
 * A KV key for an AoR: KV keys allow `[-/_=.a-zA-Z0-9]`, with `.` separating tokens. Letters,
 * digits, `-` and `_` stay; every other UTF-8 byte becomes `=XX`. Reversible and injective.
 */
export function aorKey(aor: string): string {
  let out = '';
  for (const byte of Buffer.from(aor, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Inverse of aorKey. */
export function aorFromKey(key: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '=') {
      bytes.push(Number.parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(key.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** In-memory store for unit tests, bounded to `maxAors` keys (a put beyond it fails loudly). */
export class MemoryBindingStore implements BindingStore {
  readonly #data = new Map<string, StoredBindings>();
  readonly #maxAors: number;
  #revision = 0;

  constructor(maxAors = 10_000) {
    this.#maxAors = maxAors;
  }

  get size(): number {
    return this.#data.size;
  }

  aors(): string[] {
    return [...this.#data.keys()];
  }

  async get(aor: string): Promise<StoredBindings | undefined> {
    return this.#data.get(aor);
  }

  async put(aor: string, value: BindingSet, expectedRevision: number | undefined): Promise<boolean> {
    const current = this.#data.get(aor);
    if (expectedRevision === undefined ? current !== undefined : current?.revision !== expectedRevision) return false;
    if (current === undefined && this.#data.size >= this.#maxAors) throw new RangeError(`binding store full (${this.#maxAors} AoRs)`);
    this.#data.set(aor, { value: structuredClone(value), revision: ++this.#revision });
    return true;
  }

  async delete(aor: string, expectedRevision: number): Promise<boolean> {
    if (this.#data.get(aor)?.revision !== expectedRevision) return false;
    this.#data.delete(aor);
    return true;
  }
}
