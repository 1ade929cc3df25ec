/**
 * Expiry of registrations: every instance periodically lists the AoRs, removes expired bindings
 * with a revision-checked write (per-key CAS), and publishes `expired` only when its write won, so
 * several instances sweeping at once publish each expiry once.
 */
import type { UaContext } from '../handlers/context.js';
import { publishRegEvent } from '../handlers/events.js';
import { sweepExpired } from '../registrar/location.js';
import type { KvBindingStore } from '../store/kv-binding-store.js';
import { isUnavailable } from '../errors.js';

export interface RegistrationSweepOptions {
  readonly ctx: () => UaContext;
  readonly store: Pick<KvBindingStore, 'keys' | 'getByKey' | 'putByKey' | 'deleteByKey'>;
  readonly intervalMs: number;
  /** Most AoRs looked at per sweep. */
  readonly batch: number;
  /** Also refreshes the calls gauge. */
  readonly onSample?: (aors: number) => Promise<void>;
}

export class RegistrationSweep {
  readonly #o: RegistrationSweepOptions;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(o: RegistrationSweepOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.sweep(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One pass; returns the number of expired bindings this instance removed. */
  async sweep(): Promise<number> {
    if (this.#running) return 0;
    this.#running = true;
    const ctx = this.#o.ctx();
    let removed = 0;
    try {
      const keys = await this.#o.store.keys(this.#o.batch);
      ctx.metrics.registrations.set(keys.length);
      for (const key of keys) {
        const stored = await this.#o.store.getByKey(key);
        if (stored === undefined) continue;
        const outcome = sweepExpired(stored.value, ctx.clock());
        if (outcome.next === undefined) continue;
        const won =
          outcome.next === null
            ? await this.#o.store.deleteByKey(key, stored.revision)
            : await this.#o.store.putByKey(key, outcome.next, stored.revision);
        if (!won) continue; // another instance (or a REGISTER) wrote first; it owns these events
        removed += outcome.expired.length;
        for (const ev of outcome.events) publishRegEvent(ctx, ev);
      }
      await this.#o.onSample?.(keys.length);
    } catch (err) {
      if (isUnavailable(err)) ctx.log.warn({ err: (err as Error).message }, 'registration sweep: KV unavailable');
      else ctx.log.error({ err }, 'registration sweep failed');
    } finally {
      this.#running = false;
    }
    return removed;
  }
}
