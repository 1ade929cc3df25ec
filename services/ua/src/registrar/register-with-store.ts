/**
 * Runs processRegister against a BindingStore with optimistic concurrency: read with revision,
 * decide, write with compare-and-set, and start over when another instance wrote first.
 *
 * With a flow index (flow-index.ts), a binding on a connection is indexed under its flow *before*
 * the binding is written, so that the index never misses a stored binding; a binding already
 * indexed with that flow is indexed again only after `reindexAfterMs` (to renew the entry's age in
 * a store with a max age), so a refresh on the same connection costs nothing extra. A flow whose
 * entry is full is tried again on the same terms.
 */
import { canonicalAor } from './aor.js';
import type { BindingStore } from './binding-store.js';
import { isConnectionFlow, sameFlow, type Binding, type BindingSet } from './binding.js';
import { indexFlow, type FlowIndexStore, type IndexOutcome } from './flow-index.js';
import { processRegister } from './registrar.js';
import type { RegisterInput, RegisterOutcome, RegistrarConfig } from './registrar.js';

export class RegistrarConflictError extends Error {
  override readonly name = 'RegistrarConflictError';
  readonly code = 'UA_REGISTRAR_CONFLICT';
  constructor(aor: string, attempts: number) {
    super(`bindings of ${aor} kept changing under us (${attempts} attempts)`);
  }
}

export interface FlowIndexing {
  readonly store: FlowIndexStore;
  /** A binding indexed this long ago is indexed again on its next refresh. */
  readonly reindexAfterMs: number;
  /** Told when an AoR could not be indexed (the binding is stored all the same). */
  readonly onUnindexed?: (aor: string, outcome: Exclude<IndexOutcome, 'indexed'>) => void;
}

/** The bindings of `set` on `flow` that need (another) index entry at `now`. */
function needsIndex(set: BindingSet, input: Pick<RegisterInput, 'flow' | 'now'>, reindexAfterMs: number): Binding[] {
  if (!isConnectionFlow(input.flow)) return [];
  return set.bindings.filter((b) => sameFlow(b.flow, input.flow) && (b.flowIndexedAt === undefined || input.now - b.flowIndexedAt >= reindexAfterMs));
}

export async function registerWithStore(
  store: BindingStore,
  config: RegistrarConfig,
  input: Omit<RegisterInput, 'current'>,
  o: { readonly attempts?: number; readonly flows?: FlowIndexing | undefined } = {},
): Promise<RegisterOutcome> {
  const { attempts = 5, flows } = o;
  const aor = canonicalAor(input.request.to.uri);
  // Without an AoR there is nothing to read: processRegister answers the request on its own.
  if (aor === undefined) return processRegister(config, { ...input, current: undefined });
  let index: IndexOutcome | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const stored = await store.get(aor);
    const outcome = processRegister(config, { ...input, current: stored?.value });
    if (outcome.next === undefined) return outcome;
    let next = outcome.next;
    if (next !== null && flows !== undefined) {
      const due = needsIndex(next, input, flows.reindexAfterMs);
      if (due.length > 0) {
        if (index === undefined) {
          index = await indexFlow(flows.store, input.flow, aor);
          if (index !== 'indexed') flows.onUnindexed?.(aor, index);
        }
        // A full entry is not tried again on every refresh either (only after reindexAfterMs).
        if (index !== 'contended') next = { ...next, bindings: next.bindings.map((b) => (due.includes(b) ? { ...b, flowIndexedAt: input.now } : b)) };
      }
    }
    const written = next === null ? stored === undefined || (await store.delete(aor, stored.revision)) : await store.put(aor, next, stored?.revision);
    if (written) return next === outcome.next ? outcome : { ...outcome, next };
  }
  throw new RegistrarConflictError(aor, attempts);
}
