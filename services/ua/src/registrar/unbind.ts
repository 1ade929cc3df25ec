/**
 * Removal of bindings whose flow is gone (RFC 5626 §5.3, §7): the transport announced the
 * connection closed (every binding of the AoR on that flow goes), or a call to one binding got 430
 * Flow Failed (that binding goes: a 430 from an edge proxy further down says nothing about the
 * other bindings that share our connection to it). Each removal is `unregistered` with a reason.
 * Idempotent: a binding that moved to another flow (the UA registered again on a new connection)
 * or is already gone is left alone.
 */
import type { BindingStore } from './binding-store.js';
import { sameFlow, type Binding, type BindingSet } from './binding.js';
import type { FlowKey } from './flow-index.js';
import { RegistrarConflictError } from './register-with-store.js';
import type { RegistrationEvent } from './registrar.js';

/** One binding as a call to it knows it: AoR, Contact URI as registered, flow. */
export interface BindingRef {
  readonly aor: string;
  readonly contact: string;
  readonly flow: FlowKey;
}

export interface UnbindTarget {
  readonly flow: FlowKey;
  /** Only the binding of this Contact URI (as registered); absent: every binding on the flow. */
  readonly contact?: string;
}

export interface UnbindOutcome {
  /** undefined: nothing to remove; null: nothing left (delete the key); else the remaining set. */
  readonly next: BindingSet | null | undefined;
  readonly removed: readonly Binding[];
  readonly events: readonly RegistrationEvent[];
}

export function unbindFlow(set: BindingSet, target: UnbindTarget, reason: string): UnbindOutcome {
  const hit = (b: Binding): boolean => sameFlow(b.flow, target.flow) && (target.contact === undefined || b.contact === target.contact);
  const removed = set.bindings.filter(hit);
  if (removed.length === 0) return { next: undefined, removed, events: [] };
  const remaining = set.bindings.filter((b) => !hit(b));
  const events = removed.map((b): RegistrationEvent => ({
    event: 'unregistered',
    aor: set.aor,
    contact: b.contact,
    expires: 0,
    flow: b.flow,
    ...(b.userAgent === undefined ? {} : { userAgent: b.userAgent }),
    reason,
  }));
  return { next: remaining.length === 0 ? null : { ...set, bindings: remaining }, removed, events };
}

/** unbindFlow against the store with compare-and-set; the events of what this call removed. */
export async function unbindWithStore(store: BindingStore, aor: string, target: UnbindTarget, reason: string, attempts = 5): Promise<readonly RegistrationEvent[]> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const stored = await store.get(aor);
    if (stored === undefined || stored.value.aor !== aor) return [];
    const outcome = unbindFlow(stored.value, target, reason);
    if (outcome.next === undefined) return [];
    const written = outcome.next === null ? await store.delete(aor, stored.revision) : await store.put(aor, outcome.next, stored.revision);
    if (written) return outcome.events;
  }
  throw new RegistrarConflictError(aor, attempts);
}
