/**
 * Replay protection state: the highest nonce-count seen per nonce (RFC 7616 §3.4.5, §5.4).
 *
 * The shape maps onto a JetStream KV bucket with a TTL of the nonce lifetime: `create` is
 * `kv.create` (fails when the key exists), `update` is `kv.update(key, value, revision)`.
 */
import { createHash } from 'node:crypto';

export interface NonceCountEntry {
  /** Highest nc accepted so far; 0 marks a nonce used without qop (single use). */
  readonly nc: number;
  readonly revision: number;
}

export interface NonceCountStore {
  get(key: string): Promise<NonceCountEntry | undefined>;
  /** Creates the key; resolves false when it already exists. */
  create(key: string, nc: number): Promise<boolean>;
  /** Compare-and-set; resolves false when the stored revision is not `expectedRevision`. */
  update(key: string, nc: number, expectedRevision: number): Promise<boolean>;
}

/** The store key of a nonce: a hex digest, safe for KV key syntax and of fixed size. */
export function nonceKey(nonce: string): string {
  return createHash('sha256').update(nonce, 'utf8').digest('hex').slice(0, 40);
}

export interface MemoryNonceCountStoreOptions {
  /** Entries kept at most; the oldest go first. */
  readonly maxEntries: number;
  /** Entry lifetime, ms (the nonce lifetime). */
  readonly ttlMs: number;
  readonly clock: () => number;
}

interface MemoryEntry {
  nc: number;
  revision: number;
  createdAt: number;
}

/** A bounded in-memory store with TTL, for unit tests and single-instance runs. */
export class MemoryNonceCountStore implements NonceCountStore {
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #options: MemoryNonceCountStoreOptions;
  #revision = 0;

  constructor(options: MemoryNonceCountStoreOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<NonceCountEntry | undefined> {
    const entry = this.#live(key);
    return entry === undefined ? undefined : { nc: entry.nc, revision: entry.revision };
  }

  async create(key: string, nc: number): Promise<boolean> {
    if (this.#live(key) !== undefined) return false;
    this.#evict();
    this.#entries.set(key, { nc, revision: ++this.#revision, createdAt: this.#options.clock() });
    return true;
  }

  async update(key: string, nc: number, expectedRevision: number): Promise<boolean> {
    const entry = this.#live(key);
    if (entry === undefined || entry.revision !== expectedRevision) return false;
    entry.nc = nc;
    entry.revision = ++this.#revision;
    return true;
  }

  #live(key: string): MemoryEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#options.clock() - entry.createdAt > this.#options.ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #evict(): void {
    const now = this.#options.clock();
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size < this.#options.maxEntries && now - entry.createdAt <= this.#options.ttlMs) break;
      this.#entries.delete(key);
    }
  }
}
