/**
 * A thin, typed layer over one JetStream KV bucket: JSON values checked by a guard, every operation
 * bounded by a timeout (a KV that does not answer becomes UaError UA_STORE_UNAVAILABLE, so the
 * request gets 503 instead of hanging), compare-and-set by revision, and a latency observer.
 *
 * The hot operations go through @sipnats/bus CoreKv (core NATS requests through one shared inbox,
 * timeouts by deadline): no timer of its own per operation or attempt. The operation's timeout
 * (SIPNATS_KV_TIMEOUT) is the retry budget of retry.ts, and each attempt's shorter timeout travels
 * with its requests as their deadline.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { CoreKv } from '@sipnats/bus';
import { UA_ERROR, UaError } from '../errors.js';
import { retryTransient, settleWithin } from './retry.js';

export interface Stored<T> {
  readonly value: T;
  readonly revision: number;
}

export type KvOp = 'get' | 'create' | 'update' | 'delete' | 'keys';
export type KvObserver = (bucket: string, op: KvOp, seconds: number, ok: boolean) => void;

/** What KvRecords needs of a bucket (CoreKv; a fake in tests). */
export type KvRecordsBucket = Pick<CoreKv, 'get' | 'create' | 'update' | 'put' | 'delete' | 'keys'>;

export interface KvRecordsOptions<T> {
  readonly kv: KvRecordsBucket;
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

/** Time left until `until` (performance.now() clock), for a second request of one attempt. */
function left(until: number): number {
  return Math.max(1, until - performance.now());
}

export class KvRecords<T> {
  readonly #o: KvRecordsOptions<T>;

  constructor(o: KvRecordsOptions<T>) {
    this.#o = o;
  }

  get bucket(): string {
    return this.#o.bucket;
  }

  /**
   * One operation: transient failures (NATS failover) are retried until `timeoutMs` (retry.ts);
   * `work` gets the attempt number and how long the attempt may take. An attempt without an
   * answer ends at the mux's next sweep after its deadline, so an operation ends at most about
   * 30 ms past `timeoutMs` (budget `timeoutMs` − 20 ms, sweep every 50 ms).
   */
  async #run<R>(op: KvOp, key: string, work: (attempt: number, timeoutMs: number) => Promise<R>, wholeBudgetPerAttempt = false): Promise<R> {
    const started = performance.now();
    let ok = false;
    try {
      const r = await retryTransient(work, { budgetMs: Math.max(1, this.#o.timeoutMs - 20), ...(wholeBudgetPerAttempt ? { attemptTimeoutMs: this.#o.timeoutMs } : {}) });
      ok = true;
      return r;
    } catch (err) {
      if (err instanceof UaError) throw err;
      throw new UaError(UA_ERROR.storeUnavailable, `KV ${this.#o.bucket} ${op} ${key} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      this.#o.observe?.(this.#o.bucket, op, (performance.now() - started) / 1000, ok);
    }
  }

  /** The value and revision, or undefined when missing or deleted. Throws UA_STORE_CORRUPT for a bad value. */
  async get(key: string): Promise<Stored<T> | undefined> {
    const e = await this.#run('get', key, (_attempt, timeoutMs) => this.#o.kv.get(key, { timeoutMs }));
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
    return this.#run('create', key, async (attempt, timeoutMs) => {
      const until = performance.now() + timeoutMs;
      try {
        return await this.#o.kv.create(key, bytes, { timeoutMs });
      } catch (err) {
        if (isCasFailure(err)) return attempt > 1 ? this.#landed(key, bytes, until) : undefined;
        throw err;
      }
    });
  }

  /**
   * A retried write refused by its revision check: an earlier attempt that timed out may have
   * landed. It did when the key now holds exactly our bytes; then that revision is ours.
   */
  async #landed(key: string, bytes: Uint8Array, until: number): Promise<number | undefined> {
    const e = await this.#o.kv.get(key, { timeoutMs: left(until) });
    if (e === null || e.operation !== 'PUT' || e.value.length !== bytes.length) return undefined;
    for (let i = 0; i < bytes.length; i++) if (e.value[i] !== bytes[i]) return undefined;
    return e.revision;
  }

  /** Writes when the key is still at `revision`; undefined when another writer won. */
  async update(key: string, value: T, revision: number): Promise<number | undefined> {
    const bytes = utf8.encode(JSON.stringify(value));
    return this.#run('update', key, async (attempt, timeoutMs) => {
      const until = performance.now() + timeoutMs;
      try {
        return await this.#o.kv.update(key, bytes, revision, { timeoutMs });
      } catch (err) {
        if (isCasFailure(err)) return attempt > 1 ? this.#landed(key, bytes, until) : undefined;
        throw err;
      }
    });
  }

  /** Unconditional write. */
  async put(key: string, value: T): Promise<number> {
    const bytes = utf8.encode(JSON.stringify(value));
    return this.#run('update', key, (_attempt, timeoutMs) => this.#o.kv.put(key, bytes, { timeoutMs }));
  }

  /** Deletes (with `revision`: only when still at it). False when the revision check failed. */
  async delete(key: string, revision?: number): Promise<boolean> {
    return this.#run('delete', key, async (attempt, timeoutMs) => {
      const until = performance.now() + timeoutMs;
      try {
        await this.#o.kv.delete(key, revision === undefined ? { timeoutMs } : { previousSeq: revision, timeoutMs });
        return true;
      } catch (err) {
        // A retried delete refused by its revision: an earlier attempt landed if the key is gone.
        if (isCasFailure(err)) return attempt > 1 ? ((await this.#o.kv.get(key, { timeoutMs: left(until) }))?.operation ?? 'DEL') !== 'PUT' : false;
        throw err;
      }
    });
  }

  /** Keys matching `filter` (a KV key filter such as `tmr.>`), at most `limit`. */
  async keys(filter: string, limit: number): Promise<string[]> {
    const list = async (): Promise<string[]> => {
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
    };
    // A listing runs on nats.js (an ordered consumer) and cannot take a deadline: its own timer.
    return this.#run('keys', filter, (_attempt, timeoutMs) => settleWithin(list(), timeoutMs), true); // a listing is not abandoned half-way for a new one
  }
}
