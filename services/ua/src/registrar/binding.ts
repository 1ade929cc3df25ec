/**
 * The registrar's stored data: one BindingSet per address-of-record, JSON-serializable and
 * versioned (`v`), kept in KV under the AoR with its revision.
 */

/** A transport flow, same shape as the contracts' FlowRef. */
export interface Flow {
  /** Transport instance that owns the flow. */
  readonly instance: string;
  readonly transport: string;
  readonly local: string;
  readonly remote: string;
  /** Connection id on streams, `<listener>/<remote>` on UDP. */
  readonly id: string;
  /** HMAC-authenticated flow token issued by the owning transport. */
  readonly token?: string;
}

/** Transports whose flows are connections: they close, and the transport announces it. */
const CONNECTION_TRANSPORTS: ReadonlySet<string> = new Set(['tcp', 'tls', 'ws', 'wss']);

/** True for a connection-oriented flow (TCP, TLS, WS, WSS). */
export function isConnectionFlow(flow: Pick<Flow, 'transport'>): boolean {
  return CONNECTION_TRANSPORTS.has(flow.transport);
}

/** The same flow: same owning transport instance, same flow id (addresses and token do not matter). */
export function sameFlow(a: Pick<Flow, 'instance' | 'id'>, b: Pick<Flow, 'instance' | 'id'>): boolean {
  return a.instance === b.instance && a.id === b.id;
}

export const BINDING_VERSION = 1;

export interface Binding {
  /** The Contact URI as registered. */
  readonly contact: string;
  /** Comparison key of the Contact URI (RFC 3261 §19.1.4, simplified: see aor.ts). */
  readonly key: string;
  /** Contact header parameters other than expires and q, in order (null: flag). */
  readonly params: ReadonlyArray<readonly [name: string, value: string | null]>;
  /** Absolute expiry, ms since the epoch. */
  readonly expiresAt: number;
  /** 0..1, undefined when the Contact had no q. */
  readonly q?: number;
  readonly callId: string;
  readonly cseq: number;
  /** Path header values (RFC 3327), in order, as received. */
  readonly path: readonly string[];
  readonly flow: Flow;
  readonly userAgent?: string;
  /** RFC 5626 `+sip.instance` and `reg-id`, kept when present. */
  readonly instanceId?: string;
  readonly regId?: number;
  /** When this binding was first created and last refreshed, ms. */
  readonly registeredAt: number;
  readonly receivedAt: number;
  /**
   * When this binding's (connection) flow was last written to the flow index (flow-index.ts), or
   * found full there, ms; kept while the binding stays on that flow. Absent: not indexed (UDP, or
   * not yet).
   */
  readonly flowIndexedAt?: number;
}

export interface BindingSet {
  readonly v: typeof BINDING_VERSION;
  readonly aor: string;
  readonly bindings: readonly Binding[];
}

/** Seconds until a binding expires (0 when past). */
export function remainingSeconds(binding: Binding, now: number): number {
  return Math.max(0, Math.ceil((binding.expiresAt - now) / 1000));
}

/** Contact header value for a binding: `<uri>;params;q=..;expires=N`. */
export function contactValue(binding: Binding, now: number): string {
  let value = `<${binding.contact}>`;
  for (const [name, v] of binding.params) value += v === null ? `;${name}` : `;${name}=${v}`;
  if (binding.q !== undefined) value += `;q=${formatQ(binding.q)}`;
  return `${value};expires=${remainingSeconds(binding, now)}`;
}

export function formatQ(q: number): string {
  return q === 1 ? '1' : q === 0 ? '0' : q.toFixed(3).replace(/0+$/, '');
}

/** Checks the shape of a stored BindingSet (data read back from KV). */
export function isBindingSet(value: unknown): value is BindingSet {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<BindingSet>;
  return v.v === BINDING_VERSION && typeof v.aor === 'string' && Array.isArray(v.bindings) &&
    v.bindings.every((b: unknown) => {
      if (typeof b !== 'object' || b === null) return false;
      const x = b as Partial<Binding>;
      return typeof x.contact === 'string' && typeof x.key === 'string' && typeof x.expiresAt === 'number' &&
        typeof x.callId === 'string' && typeof x.cseq === 'number' && Array.isArray(x.path) && typeof x.flow === 'object';
    });
}
