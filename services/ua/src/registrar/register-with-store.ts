/**
 * Runs processRegister against a BindingStore with optimistic concurrency: read with revision,
 * decide, write with compare-and-set, and start over when another instance wrote first.
 */
import { canonicalAor } from './aor.js';
import type { BindingStore } from './binding-store.js';
import { processRegister } from './registrar.js';
import type { RegisterInput, RegisterOutcome, RegistrarConfig } from './registrar.js';

export class RegistrarConflictError extends Error {
  override readonly name = 'RegistrarConflictError';
  readonly code = 'UA_REGISTRAR_CONFLICT';
  constructor(aor: string, attempts: number) {
    super(`bindings of ${aor} kept changing under us (${attempts} attempts)`);
  }
}

export async function registerWithStore(
  store: BindingStore,
  config: RegistrarConfig,
  input: Omit<RegisterInput, 'current'>,
  attempts = 5,
): Promise<RegisterOutcome> {
  const aor = canonicalAor(input.request.to.uri);
  // Without an AoR there is nothing to read: processRegister answers the request on its own.
  if (aor === undefined) return processRegister(config, { ...input, current: undefined });
  for (let attempt = 0; attempt < attempts; attempt++) {
    const stored = await store.get(aor);
    const outcome = processRegister(config, { ...input, current: stored?.value });
    if (outcome.next === undefined) return outcome;
    const written =
      outcome.next === null
        ? stored === undefined || (await store.delete(aor, stored.revision))
        : await store.put(aor, outcome.next, stored?.revision);
    if (written) return outcome;
  }
  throw new RegistrarConflictError(aor, attempts);
}
