/**
 * A thin, typed layer over one JetStream KV bucket: JSON values checked by a guard, every operation
 * bounded by a timeout (a KV that does not answer becomes UaError UA_STORE_UNAVAILABLE, so the
 * request gets 503 instead of hanging), compare-and-set by revision, and a latency observer.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@sipnats/bus';
import { UA_ERROR, UaError } from '../errors.js';
import { retryTransient } from './retry.js';

export interface Stored<T> {
  readonly value: T;
  readonly revision: number;
}

export type KvOp = 'get' | 'create' | 'update' | 'delete' | 'keys';
export type KvObserver = (bucket: string, op: KvOp, seconds: number, ok: boolean) => void;

export interface KvRecordsOptions<T> {
  readonly kv: KV;
  readonly bucket: string;
  /** Checks a decoded value; a value failing it is treated as corrupt. */
  readonly guard: (value: unknown) => value is T;
  readonly timeoutMs: number;
  readonly observe?: KvObserver;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function isCasFailure(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

export class KvRecords<T> {
  readonly #o: KvRecordsOptions<T>;

  constructor(o: KvRecordsOptions<T>) {
    this.#o = o;
  }

  get bucket(): string {
    return this.#o.bucket;
  }

  /** One operation: transient failures (NATS failover) are retried until `timeoutMs` (retry.ts). */
  async #run<R>(op: KvOp, key: string, work: (attempt: number) => Promise<R>, wholeBudgetPerAttempt = false): Promise<R> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new UaError(UA_ERROR.storeUnavailable, `KV ${this.#o.bucket} ${op} ${key}: no answer within ${this.#o.timeoutMs} ms`)),
        this.#o.timeoutMs,
      );
      timer.unref();
    });
    let ok = false;
    try {
      const r = await Promise.race([retryTransient(work, { budgetMs: Math.max(1, this.#o.timeoutMs - 20), ...(wholeBudgetPerAttempt ? { attemptTimeoutMs: this.#o.timeoutMs } : {}) }), timeout]);
      ok = true;
      return r;
    } catch (err) {
      if (err instanceof UaError) throw err;
      throw new UaError(UA_ERROR.storeUnavailable, `KV ${this.#o.bucket} ${op} ${key} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      this.#o.observe?.(this.#o.bucket, op, (performance.now() - started) / 1000, ok);
    }
  }

  /** The value and revision, or undefined when missing or deleted. Throws UA_STORE_CORRUPT for a bad value. */
  async get(key: string): Promise<Stored<T> | undefined> {
    const e = await this.#run('get', key, () => this.#o.kv.get(key));
    if (e === null || e.operation !== 'PUT') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(utf8Decoder.decode(e.value));
    } catch (cause) {
      throw new UaError(UA_ERROR.storeCorrupt, `KV ${this.#o.bucket} ${key}: not JSON`, { cause });
    }
    if (!this.#o.guard(value)) throw new UaError(UA_ERROR.storeCorrupt, `KV ${this.#o.bucket} ${key}: unexpected value shape`);
    return { value, revision: e.revision };
  }

  /** Creates the key; undefined when it exists already. Returns the revision. */
  async create(key: string, value: T): Promise<number | undefined> {
    const bytes = utf8.encode(JSON.stringify(value));
    return this.#run('create', key, async (attempt) => {
      try {
        return await this.#o.kv.create(key, bytes);
      } catch (err) {
        if (isCasFailure(err)) return attempt > 1 ? this.#landed(key, bytes) : undefined;
        throw err;
      }
    });
  }

  /**
   * A retried write refused by its revision check: an earlier attempt that timed out may have
   * landed. It did when the key now holds exactly our bytes; then that revision is ours.
   */
  async #landed(key: string, bytes: Uint8Array): Promise<number | undefined> {
    const e = await this.#o.kv.get(key);
    if (e === null || e.operation !== 'PUT' || e.value.length !== bytes.length) return undefined;
    for (let i = 0; i < bytes.length; i++) if (e.value[i] !== bytes[i]) return undefined;
    return e.revision;
  }

  /** Writes when the key is still at `revision`; undefined when another writer won. */
  async update(key: string, value: T, revision: number): Promise<number | undefined> {
    const bytes = utf8.encode(JSON.stringify(value));
    return this.#run('update', key, async (attempt) => {
      try {
        return await this.#o.kv.update(key, bytes, revision);
      } catch (err) {
        if (isCasFailure(err)) return attempt > 1 ? this.#landed(key, bytes) : undefined;
        throw err;
      }
    });
  }

  /** Unconditional write. */
  async put(key: string, value: T): Promise<number> {
    return this.#run('update', key, () => this.#o.kv.put(key, utf8.encode(JSON.stringify(value))));
  }

  /** Deletes (with `revision`: only when still at it). False when the revision check failed. */
  async delete(key: string, revision?: number): Promise<boolean> {
    return this.#run('delete', key, async (attempt) => {
      try {
        await this.#o.kv.delete(key, revision === undefined ? undefined : { previousSeq: revision });
        return true;
      } catch (err) {
        // A retried delete refused by its revision: an earlier attempt landed if the key is gone.
        if (isCasFailure(err)) return attempt > 1 ? ((await this.#o.kv.get(key))?.operation ?? 'DEL') !== 'PUT' : false;
        throw err;
      }
    });
  }

  /** Keys matching `filter` (a KV key filter such as `tmr.>`), at most `limit`. */
  async keys(filter: string, limit: number): Promise<string[]> {
    return this.#run('keys', filter, async () => {
      const out: string[] = [];
      const it = await this.#o.kv.keys(filter);
      for await (const k of it) {
        if (out.length >= limit) {
          it.stop();
          break;
        }
        out.push(k);
      }
      return out;
    }, true); // a listing is not abandoned half-way for a new one
  }
}
