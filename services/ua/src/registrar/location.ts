/**
 * Location service and expiry sweep over a binding set.
 */
import type { Binding, BindingSet, Flow } from './binding.js';
import type { RegistrationEvent } from './registrar.js';

export interface LocatedContact {
  readonly contact: string;
  /** q of the binding; absent q ranks as 1.0. */
  readonly q: number;
  readonly path: readonly string[];
  readonly flow: Flow;
  readonly expiresAt: number;
  readonly instanceId?: string;
}

/** Live contacts of an AoR, highest q first, the most recently refreshed first among equals. */
export function locate(set: BindingSet | undefined, now: number): LocatedContact[] {
  if (set === undefined) return [];
  return set.bindings
    .filter((b) => b.expiresAt > now)
    .sort((a, b) => (b.q ?? 1) - (a.q ?? 1) || b.receivedAt - a.receivedAt)
    .map((b) => ({
      contact: b.contact,
      q: b.q ?? 1,
      path: b.path,
      flow: b.flow,
      expiresAt: b.expiresAt,
      ...(b.instanceId === undefined ? {} : { instanceId: b.instanceId }),
    }));
}

export interface SweepOutcome {
  /** undefined: nothing expired; null: nothing left (delete the key); else the remaining set. */
  readonly next: BindingSet | null | undefined;
  readonly expired: readonly Binding[];
  readonly events: readonly RegistrationEvent[];
  /** When the next binding of this set expires (ms), for scheduling the next sweep. */
  readonly nextExpiry: number | undefined;
}

/** Removes the bindings expired at `now`. */
export function sweepExpired(set: BindingSet, now: number): SweepOutcome {
  const expired = set.bindings.filter((b) => b.expiresAt <= now);
  const remaining = set.bindings.filter((b) => b.expiresAt > now);
  const nextExpiry = remaining.length === 0 ? undefined : Math.min(...remaining.map((b) => b.expiresAt));
  const events = expired.map((b): RegistrationEvent => ({
    event: 'expired',
    aor: set.aor,
    contact: b.contact,
    expires: 0,
    flow: b.flow,
    ...(b.userAgent === undefined ? {} : { userAgent: b.userAgent }),
  }));
  let next: BindingSet | null | undefined;
  if (expired.length === 0) next = undefined;
  else if (remaining.length === 0) next = null;
  else next = { ...set, bindings: remaining };
  return { next, expired, events, nextExpiry };
}
