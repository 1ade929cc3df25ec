/**
 * CoreKv: the hot operations of ONE JetStream KV bucket (get, create, update, put, delete) spoken
 * directly on core NATS through a RequestMux, with the results and errors nats.js KV gives:
 * - get: a direct get (`$JS.API.DIRECT.GET.KV_<b>.$KV.<b>.<key>`) when the bucket allows them
 *   (see `directGets`), else `$JS.API.STREAM.MSG.GET.KV_<b>` with `{"last_by_subj": ...}` (JSON,
 *   base64 data and headers). The entry's value, revision (stream sequence) and operation
 *   (`KV-Operation`: PUT, DEL or PURGE), or null when the key never existed.
 * - writes publish to `$KV.<b>.<key>` and read the PubAck (`{"stream","seq"}`); the compare-and-set
 *   ones carry `Nats-Expected-Last-Subject-Sequence` (0 for create). A create refused because the
 *   key's last entry is a DEL/PURGE marker becomes an update on that marker's revision, as in nats.js.
 * - a JetStream API error comes back as nats.js' JetStreamApiError with its codes (wrong last
 *   sequence: err_code 10071 or 10164); a direct-get status other than 404 as KvStatusError; no
 *   responders, no answer in time, a lost or closed connection as NatsRequestError.
 * Every operation takes a timeout that covers all its requests (the create fallback included).
 * What it leaves to nats.js (listing keys, watching, status) goes through `kv`. It assumes a plain
 * bucket, as openKv makes: no mirror or sourced bucket, no JetStream domain or API prefix.
 */
import { JetStreamApiCodes, JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { Empty, headers, MsgHdrsImpl, type Msg, type MsgHdrs } from '@nats-io/nats-core';
import type { Bus } from './connect.js';
import { KvStatusError } from './errors.js';
import { openBucket, type OpenKvOptions } from './kv.js';
import type { RequestMux } from './request-mux.js';

export type KvOperation = 'PUT' | 'DEL' | 'PURGE';

export interface CoreKvEntry {
  readonly value: Uint8Array;
  /** The stream sequence of the entry: the revision a compare-and-set names. */
  readonly revision: number;
  readonly operation: KvOperation;
}

export interface CoreKvCallOptions {
  /** Longest wait for the whole operation, in ms (default: the bucket's `timeoutMs`). */
  readonly timeoutMs?: number;
}

export interface CoreKvDeleteOptions extends CoreKvCallOptions {
  /** Delete only while the key is still at this revision. */
  readonly previousSeq?: number;
}

export interface CoreKvOptions {
  readonly bucket: string;
  /** Whether the bucket's stream serves direct gets (its `allow_direct`). */
  readonly direct: boolean;
  /** The nats.js handle of the same bucket, for the rare operations. */
  readonly kv: KV;
  /** Default timeout of an operation in ms (default 5000, nats.js' JetStream default). */
  readonly timeoutMs?: number;
}

const EXPECTED_LAST_SUBJECT_SEQ = 'Nats-Expected-Last-Subject-Sequence';
const KV_OPERATION = 'KV-Operation';
const MARKER_REASON = 'Nats-Marker-Reason';
const validKey = /^[-/=.\w]+$/;
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** nats.js' key check: the same keys are refused, with the same message. */
function validateKey(k: string): void {
  if (k.startsWith('.') || k.endsWith('.') || !validKey.test(k)) throw new Error(`invalid key: ${k}`);
}

function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/** The entry's operation from its headers, as nats.js reads it (a MaxAge marker is a purge). */
function operationOf(h: MsgHdrs | undefined): KvOperation {
  if (h === undefined) return 'PUT';
  if (h.has(MARKER_REASON) && h.get(MARKER_REASON) === 'MaxAge') return 'PURGE';
  const op = h.get(KV_OPERATION);
  return op === 'DEL' || op === 'PURGE' ? op : 'PUT';
}

interface ApiReply {
  readonly error?: { readonly code: number; readonly err_code?: number; readonly description: string };
}

interface PubAckReply extends ApiReply {
  readonly stream?: string;
  readonly seq?: number;
}

interface MsgGetReply extends ApiReply {
  readonly message?: { readonly subject: string; readonly seq: number; readonly data?: string; readonly hdrs?: string };
}

function parseApi<T extends ApiReply>(msg: Msg): T {
  const r = JSON.parse(utf8.decode(msg.data)) as T;
  if (r.error !== undefined) throw new JetStreamApiError({ code: r.error.code, err_code: r.error.err_code ?? 0, description: r.error.description });
  return r;
}

function pubAckSeq(msg: Msg): number {
  const pa = parseApi<PubAckReply>(msg);
  if (pa.stream === undefined || pa.stream === '' || typeof pa.seq !== 'number') throw new JetStreamError('invalid ack response');
  return pa.seq;
}

export class CoreKv {
  readonly bucket: string;
  /** The nats.js handle of the bucket: keys, watch, status. */
  readonly kv: KV;
  readonly #mux: RequestMux;
  readonly #direct: boolean;
  readonly #timeoutMs: number;
  /** `$KV.<bucket>.`: the subject of a key is this and the key. */
  readonly #keyPrefix: string;
  readonly #directGet: string;
  readonly #msgGet: string;
  // Headers that never change are built once (nats.js encodes them at each publish).
  readonly #expectNew: MsgHdrs;
  readonly #deleteMarker: MsgHdrs;

  constructor(mux: RequestMux, o: CoreKvOptions) {
    this.#mux = mux;
    this.bucket = o.bucket;
    this.kv = o.kv;
    this.#direct = o.direct;
    this.#timeoutMs = o.timeoutMs ?? 5000;
    this.#keyPrefix = `$KV.${o.bucket}.`;
    this.#directGet = `$JS.API.DIRECT.GET.KV_${o.bucket}.${this.#keyPrefix}`;
    this.#msgGet = `$JS.API.STREAM.MSG.GET.KV_${o.bucket}`;
    this.#expectNew = headers();
    this.#expectNew.set(EXPECTED_LAST_SUBJECT_SEQ, '0');
    this.#deleteMarker = headers();
    this.#deleteMarker.set(KV_OPERATION, 'DEL');
  }

  /** Whether reads are direct gets (else through the stream leader's JetStream API). */
  get direct(): boolean {
    return this.#direct;
  }

  /** The key's last entry (a DEL/PURGE marker included), or null when it has none. */
  get(key: string, o?: CoreKvCallOptions): Promise<CoreKvEntry | null> {
    validateKey(key);
    const subject = this.#keyPrefix + key;
    const timeoutMs = o?.timeoutMs ?? this.#timeoutMs;
    if (this.#direct) return this.#mux.request(this.#directGet + key, Empty, undefined, timeoutMs, (m) => directEntry(m, subject));
    return this.#mux.request(this.#msgGet, utf8Encoder.encode(JSON.stringify({ last_by_subj: subject })), undefined, timeoutMs, (m) => storedEntry(m, subject));
  }

  /** Stores `value` only when the key has no entry or its last entry is a delete; returns the revision. */
  async create(key: string, value: Uint8Array, o?: CoreKvCallOptions): Promise<number> {
    validateKey(key);
    const deadline = performance.now() + (o?.timeoutMs ?? this.#timeoutMs);
    try {
      return await this.#publish(key, value, this.#expectNew, deadline - performance.now());
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      // The key exists, or only its delete marker does: nats.js writes over a marker.
      const e = await this.get(key, { timeoutMs: left(deadline) });
      if (e?.operation !== 'DEL' && e?.operation !== 'PURGE') throw err;
      return this.update(key, value, e.revision, { timeoutMs: left(deadline) });
    }
  }

  /** Stores `value` only while the key's last entry is `revision`; returns the new revision. */
  update(key: string, value: Uint8Array, revision: number, o?: CoreKvCallOptions): Promise<number> {
    if (revision <= 0) return Promise.reject(new Error('version must be greater than 0'));
    validateKey(key);
    const h = headers();
    h.set(EXPECTED_LAST_SUBJECT_SEQ, `${revision}`);
    return this.#publish(key, value, h, o?.timeoutMs ?? this.#timeoutMs);
  }

  /** Stores `value` unconditionally; returns the revision. */
  put(key: string, value: Uint8Array, o?: CoreKvCallOptions): Promise<number> {
    validateKey(key);
    return this.#publish(key, value, undefined, o?.timeoutMs ?? this.#timeoutMs);
  }

  /** Writes a delete marker; with `previousSeq`, only while the key is still at that revision. */
  async delete(key: string, o?: CoreKvDeleteOptions): Promise<void> {
    validateKey(key);
    let h = this.#deleteMarker;
    // As nats.js: a revision of 0 means "no condition".
    if (o?.previousSeq !== undefined && o.previousSeq !== 0) {
      h = headers();
      h.set(KV_OPERATION, 'DEL');
      h.set(EXPECTED_LAST_SUBJECT_SEQ, `${o.previousSeq}`);
    }
    await this.#publish(key, Empty, h, o?.timeoutMs ?? this.#timeoutMs);
  }

  /** Keys matching `filter`, through nats.js (an ordered consumer: not a hot path). */
  keys(filter?: string): ReturnType<KV['keys']> {
    return this.kv.keys(filter);
  }

  #publish(key: string, value: Uint8Array, h: MsgHdrs | undefined, timeoutMs: number): Promise<number> {
    return this.#mux.request(this.#keyPrefix + key, value, h, Math.max(1, timeoutMs), pubAckSeq);
  }
}

function left(deadline: number): number {
  return Math.max(1, deadline - performance.now());
}

/** A direct-get reply: the stored message with its headers, or a status (404: no entry). */
function directEntry(m: Msg, subject: string): CoreKvEntry | null {
  const h = m.headers;
  if (h === undefined) throw new Error('headers expected');
  if (h.code !== 0) {
    const description = h.description.toLowerCase();
    if (h.code === 404 && description === 'message not found') return null;
    throw new KvStatusError(h.code, description);
  }
  if (h.last('Nats-Subject') !== subject) return null;
  return { value: m.data, revision: parseInt(h.last('Nats-Sequence'), 10) || 0, operation: operationOf(h) };
}

/** A STREAM.MSG.GET reply: JSON with base64 data and headers, or the API error (10037: no entry). */
function storedEntry(m: Msg, subject: string): CoreKvEntry | null {
  let r: MsgGetReply;
  try {
    r = parseApi<MsgGetReply>(m);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return null;
    throw err;
  }
  const sm = r.message;
  if (sm === undefined || sm.subject !== subject) return null;
  const value = sm.data === undefined ? Empty : new Uint8Array(Buffer.from(sm.data, 'base64'));
  const h = sm.hdrs === undefined ? undefined : MsgHdrsImpl.decode(new Uint8Array(Buffer.from(sm.hdrs, 'base64')));
  return { value, revision: sm.seq, operation: operationOf(h) };
}

/**
 * Opens the bucket (openKv: created when missing, direct gets brought in line with its replicas)
 * and returns its CoreKv, reading the way the bucket's stream allows.
 */
export async function openCoreKv(bus: Pick<Bus, 'nc'>, mux: RequestMux, o: OpenKvOptions & { timeoutMs?: number }): Promise<CoreKv> {
  const { kv, direct } = await openBucket(bus, o);
  return new CoreKv(mux, { bucket: o.bucket, direct, kv, ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }) });
}
