/**
 * The registrar's index by flow: which AoRs have bindings on a connection (TCP, TLS, WS, WSS), so
 * that when its transport announces the connection closed (`<p>.evt.flow.closed`) those bindings
 * are found without reading every AoR. Bindings are stored one key per AoR, so without the index a
 * closed connection would cost a scan of the whole registrar (O(registrations) reads per close, and
 * a close storm when a transport instance restarts); with it a close costs one read when nothing
 * was registered on the connection, and one read and one write per AoR that was.
 *
 * One entry per flow (`FlowAors`: the AoRs, at most MAX_FLOW_AORS and MAX_FLOW_BYTES of them),
 * written with compare-and-set like the bindings. It may say more than is true, never less (modulo
 * the limits): an AoR is added *before* its binding is written, never removed when a binding
 * moves or expires; the reader checks each AoR's bindings against the flow. Stale entries go with
 * the store's max age (KV bucket TTL, longer than any registration; see KvFlowIndexStore) or when
 * the flow's close is handled.
 */
import type { Flow } from './binding.js';

export const FLOW_INDEX_VERSION = 1;

/** AoRs indexed per flow at most (a connection from a proxy or PBX may carry many). */
export const MAX_FLOW_AORS = 256;
/** Bytes of AoR text per flow at most (the entry stays under the KV value limit). */
export const MAX_FLOW_BYTES = 48_000;

/** The flow an entry belongs to: its owning transport instance and flow id. */
export type FlowKey = Pick<Flow, 'instance' | 'id'>;

export interface FlowAors {
  readonly v: typeof FLOW_INDEX_VERSION;
  readonly aors: readonly string[];
}

export interface StoredFlowAors {
  readonly value: FlowAors;
  readonly revision: number;
}

/** KV-shaped storage of the index (as BindingStore): `put` without revision creates. */
export interface FlowIndexStore {
  get(flow: FlowKey): Promise<StoredFlowAors | undefined>;
  /** Resolves false when the revision check fails (someone else wrote first). */
  put(flow: FlowKey, value: FlowAors, expectedRevision: number | undefined): Promise<boolean>;
  /** Resolves false when the revision check fails. */
  delete(flow: FlowKey, expectedRevision: number): Promise<boolean>;
}

export function isFlowAors(value: unknown): value is FlowAors {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<FlowAors>;
  return v.v === FLOW_INDEX_VERSION && Array.isArray(v.aors) && v.aors.length <= MAX_FLOW_AORS && v.aors.every((a: unknown) => typeof a === 'string');
}

/** `aors` with `aor` added, or undefined when it would break the limits. */
export function withAor(aors: readonly string[], aor: string): readonly string[] | undefined {
  if (aors.includes(aor)) return aors;
  if (aors.length >= MAX_FLOW_AORS) return undefined;
  let bytes = Buffer.byteLength(aor, 'utf8');
  for (const a of aors) bytes += Buffer.byteLength(a, 'utf8');
  return bytes > MAX_FLOW_BYTES ? undefined : [...aors, aor];
}

export type IndexOutcome = 'indexed' | 'full' | 'contended';

/**
 * Adds `aor` to the entry of `flow` (created when there is none), writing even when it is there already (a write renews the
 * entry's age in a store with a max age). `full`: the flow has as many AoRs as it may;
 * `contended`: other writers kept winning. Either way the binding is still stored, and is removed
 * by a 430 to a call or by its expiry instead.
 */
export async function indexFlow(store: FlowIndexStore, flow: FlowKey, aor: string, attempts = 5): Promise<IndexOutcome> {
  // Usually the first registration on a new connection: create without reading first (one write).
  if (await store.put(flow, { v: FLOW_INDEX_VERSION, aors: [aor] }, undefined)) return 'indexed';
  for (let i = 0; i < attempts; i++) {
    const stored = await store.get(flow);
    const aors = withAor(stored?.value.aors ?? [], aor);
    if (aors === undefined) return 'full';
    if (await store.put(flow, { v: FLOW_INDEX_VERSION, aors: [...aors] }, stored?.revision)) return 'indexed';
  }
  return 'contended';
}

/** In-memory store for unit tests, bounded to `maxFlows` entries (a put beyond it fails loudly). */
export class MemoryFlowIndexStore implements FlowIndexStore {
  readonly #data = new Map<string, StoredFlowAors>();
  readonly #maxFlows: number;
  #revision = 0;

  constructor(maxFlows = 10_000) {
    this.#maxFlows = maxFlows;
  }

  get size(): number {
    return this.#data.size;
  }

  static #key(flow: FlowKey): string {
    return `${flow.instance}\u0000${flow.id}`;
  }

  async get(flow: FlowKey): Promise<StoredFlowAors | undefined> {
    return this.#data.get(MemoryFlowIndexStore.#key(flow));
  }

  async put(flow: FlowKey, value: FlowAors, expectedRevision: number | undefined): Promise<boolean> {
    const key = MemoryFlowIndexStore.#key(flow);
    const current = this.#data.get(key);
    if (expectedRevision === undefined ? current !== undefined : current?.revision !== expectedRevision) return false;
    if (current === undefined && this.#data.size >= this.#maxFlows) throw new RangeError(`flow index full (${this.#maxFlows} flows)`);
    this.#data.set(key, { value: structuredClone(value), revision: ++this.#revision });
    return true;
  }

  async delete(flow: FlowKey, expectedRevision: number): Promise<boolean> {
    const key = MemoryFlowIndexStore.#key(flow);
    if (this.#data.get(key)?.revision !== expectedRevision) return false;
    this.#data.delete(key);
    return true;
  }
}
