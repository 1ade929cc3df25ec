/**
 * JetStream KV helpers: open-or-create a bucket, and typed JSON get/put/update where every value is
 * validated against a TypeBox schema, and updates are compare-and-set on the entry revision.
 * (nats-server 2.9 has no per-message TTL: expiry is the bucket's `ttlMs`, or tracked in the value.)
 */
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import type { Static, TSchema } from '@sinclair/typebox';
import { decodeJson, encodeJson } from '@sipnats/contracts';
import type { Bus } from './connect.js';
import { BUS_ERROR, BusError, KvConflictError } from './errors.js';

export type { KV } from '@nats-io/kv';

export interface OpenKvOptions {
  bucket: string;
  /** Revisions kept per key (default 1). */
  history?: number;
  /** Age after which entries are removed (bucket max age), in ms; default none. */
  ttlMs?: number;
  /** Stream replicas (1, 3 or 5; default 1). */
  replicas?: number;
  /** Largest value in bytes (default 64 KiB). */
  maxValueSize?: number;
  /** Largest bucket size in bytes (default unlimited). */
  maxBytes?: number;
  description?: string;
  /** Stream storage when the bucket is created: `file` (default, survives a server restart) or `memory`. */
  storage?: 'file' | 'memory';
  /**
   * Let the servers that hold the bucket answer reads themselves (JetStream "direct get"): about
   * half the server work of a read through the JetStream API, and no JSON/base64 wrapping for the
   * client. Default: on when the bucket has one replica, off with several. One replica is the
   * leader itself, so a direct read sees every acknowledged write. With several, a replica can lag
   * the leader and a value one instance just wrote may read as missing on another (a BYE answered
   * 481 for a call that exists): sipnats state is read-modify-write across instances, so reads go
   * through the stream leader there. Decided from the bucket's replica count each time it is
   * opened (a bucket scaled up later reads through its leader from the next start on). Mirrors
   * that serve direct gets (`mirror_direct`) are not expected for these buckets.
   */
  allowDirect?: boolean;
}

/** Whether a bucket with `replicas` replicas serves direct gets (OpenKvOptions.allowDirect). */
export function directGets(replicas: number, allowDirect?: boolean): boolean {
  return allowDirect ?? replicas === 1;
}

/** Opens the bucket, creating it when missing (idempotent; concurrent creators agree). */
export async function openKv(bus: Pick<Bus, 'nc'>, o: OpenKvOptions): Promise<KV> {
  return (await openBucket(bus, o)).kv;
}

/** openKv, and whether the bucket now serves direct gets (internal: for openCoreKv). */
export async function openBucket(bus: Pick<Bus, 'nc'>, o: OpenKvOptions): Promise<{ kv: KV; direct: boolean }> {
  if (!/^[A-Za-z0-9_-]+$/.test(o.bucket)) throw new BusError(BUS_ERROR.kvKey, `invalid KV bucket name ${JSON.stringify(o.bucket)}`);
  const opts: Partial<KvOptions> = {
    history: o.history ?? 1,
    replicas: o.replicas ?? 1,
    maxValueSize: o.maxValueSize ?? 65_536,
    allow_direct: directGets(o.replicas ?? 1, o.allowDirect),
  };
  if (o.ttlMs !== undefined) opts.ttl = o.ttlMs;
  if (o.maxBytes !== undefined) opts.max_bytes = o.maxBytes;
  if (o.description !== undefined) opts.description = o.description;
  if (o.storage !== undefined) opts.storage = o.storage === 'memory' ? StorageType.Memory : StorageType.File;
  const kv = await new Kvm(jetstream(bus.nc)).create(o.bucket, opts);
  // A bucket made earlier (or by another version, or with other replicas) keeps its own
  // allow_direct on open: bring it in line, since the setting decides whether reads can be stale.
  const status = await kv.status();
  const direct = directGets(status.streamInfo.config.num_replicas, o.allowDirect);
  if (status.streamInfo.config.allow_direct !== direct) {
    const jsm = await jetstreamManager(bus.nc);
    await jsm.streams.update(status.streamInfo.config.name, { allow_direct: direct });
    // Opened (bound) without it, nats.js would read through the JetStream API whatever the stream allows.
    return { kv: await new Kvm(jetstream(bus.nc)).open(o.bucket, { allow_direct: direct }), direct };
  }
  return { kv, direct };
}

export interface KvValue<T> {
  value: T;
  revision: number;
}

function isCasFailure(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function decodeEntry<T extends TSchema>(key: string, bytes: Uint8Array, schema: T): Static<T> {
  const r = decodeJson(schema, bytes);
  if (!r.ok) throw new BusError(BUS_ERROR.kvValue, `KV value of ${key} does not match ${String(schema.$id ?? 'its schema')}: ${r.errors.join('; ')}`);
  return r.value;
}

/** The value and revision of `key`, or `null` when missing or deleted. Throws BusError for an invalid value. */
export async function kvGetJson<T extends TSchema>(kv: KV, key: string, schema: T): Promise<KvValue<Static<T>> | null> {
  const e = await kv.get(key);
  if (e === null || e.operation !== 'PUT') return null;
  return { value: decodeEntry(key, e.value, schema), revision: e.revision };
}

/** Validates and stores `value` unconditionally; returns the new revision. */
export async function kvPutJson<T extends TSchema>(kv: KV, key: string, schema: T, value: Static<T>): Promise<number> {
  return kv.put(key, encodeJson(schema, value));
}

/** Stores `value` only when `key` does not exist (or was deleted); KvConflictError otherwise. */
export async function kvCreateJson<T extends TSchema>(kv: KV, key: string, schema: T, value: Static<T>): Promise<number> {
  try {
    return await kv.create(key, encodeJson(schema, value));
  } catch (err) {
    if (isCasFailure(err)) throw new KvConflictError(key, `KV key ${key} already exists`, { cause: err });
    throw err;
  }
}

/** Stores `value` only when the key is still at `revision`; KvConflictError otherwise. */
export async function kvReplaceJson<T extends TSchema>(kv: KV, key: string, schema: T, value: Static<T>, revision: number): Promise<number> {
  try {
    return await kv.update(key, encodeJson(schema, value), revision);
  } catch (err) {
    if (isCasFailure(err)) throw new KvConflictError(key, `KV key ${key} changed since revision ${revision}`, { cause: err });
    throw err;
  }
}

/** Deletes `key`; with `revision`, only when it is still at that revision (KvConflictError otherwise). */
export async function kvDelete(kv: KV, key: string, revision?: number): Promise<void> {
  try {
    await kv.delete(key, revision === undefined ? undefined : { previousSeq: revision });
  } catch (err) {
    if (isCasFailure(err)) throw new KvConflictError(key, `KV key ${key} changed since revision ${revision ?? 0}`, { cause: err });
    throw err;
  }
}

export interface KvUpdateOptions {
  /** Attempts after the first when another writer wins (default 5). */
  retries?: number;
}

/**
 * Read-modify-write with compare-and-set: `mutate` gets the current value (`undefined` when missing)
 * and returns the new one; on a concurrent write it runs again with the fresh value. Returns the new
 * revision; KvConflictError when every attempt lost.
 */
export async function kvUpdateJson<T extends TSchema>(
  kv: KV,
  key: string,
  schema: T,
  mutate: (current: Static<T> | undefined) => Static<T> | Promise<Static<T>>,
  o: KvUpdateOptions = {},
): Promise<number> {
  const retries = o.retries ?? 5;
  let lastErr: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const e = await kv.get(key);
    const current = e !== null && e.operation === 'PUT' ? decodeEntry(key, e.value, schema) : undefined;
    const next = encodeJson(schema, await mutate(current));
    try {
      // A deleted key keeps its delete marker's revision: update on top of it, like a live value.
      return e === null ? await kv.create(key, next) : await kv.update(key, next, e.revision);
    } catch (err) {
      if (!isCasFailure(err)) throw err;
      lastErr = err;
    }
  }
  throw new KvConflictError(key, `KV key ${key}: compare-and-set lost ${retries + 1} times`, { cause: lastErr });
}
