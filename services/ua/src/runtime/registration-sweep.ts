/**
 * Expiry of registrations: every instance periodically lists the AoRs, removes expired bindings
 * with a revision-checked write (per-key CAS), and publishes `expired` only when its write won, so
 * several instances sweeping at once publish each expiry once.
 *
 * The work is bounded: each instance sweeps at its own jittered interval (instances drift apart
 * instead of all reading at once), reads at most `maxReads` binding sets per pass (a cursor goes
 * round), and skips the sets whose next expiry it knows to be in the future: it learns that from
 * every set it reads and from every REGISTER it writes (`note`). What it knows is re-checked after
 * `recheckMs`, since another instance may have stored a shorter registration meanwhile (that
 * instance knows it and expires it on time; the re-check covers that instance dying).
 */
import type { UaContext } from '../handlers/context.js';
import { publishRegEvent } from '../handlers/events.js';
import type { BindingSet } from '../registrar/binding.js';
import { sweepExpired } from '../registrar/location.js';
import type { KvBindingStore } from '../store/kv-binding-store.js';
import { BoundedCache } from '../store/call-cache.js';
import { isUnavailable } from '../errors.js';

export interface RegistrationSweepOptions {
  readonly ctx: () => UaContext;
  readonly store: Pick<KvBindingStore, 'keys' | 'getByKey' | 'putByKey' | 'deleteByKey'> & Partial<Pick<KvBindingStore, 'observeWrites'>>;
  /** Mean period; each pass is scheduled at ±25 % of it. */
  readonly intervalMs: number;
  /** Most AoRs listed per pass. */
  readonly batch: number;
  /** Most binding sets read per pass (default 2000). */
  readonly maxReads?: number;
  /** A known next expiry is trusted this long after it was learnt (default 5 min). */
  readonly recheckMs?: number;
  /** Jitter source in [0, 1) (default Math.random). */
  readonly jitter?: () => number;
  /** Also refreshes the calls gauge. */
  readonly onSample?: (aors: number) => Promise<void>;
}

interface Known {
  /** Next expiry of the set (undefined: none left). */
  readonly nextExpiry: number | undefined;
  readonly learntAt: number;
}

export class RegistrationSweep {
  readonly #o: RegistrationSweepOptions;
  readonly #known: BoundedCache<Known>;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = true;
  /** Where the last pass stopped reading (a key; the next pass starts after it). */
  #cursor: string | undefined;

  constructor(o: RegistrationSweepOptions) {
    this.#o = o;
    this.#known = new BoundedCache<Known>(o.batch);
    o.store.observeWrites?.((key, set) => this.note(key, set));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A binding set this instance wrote (null: deleted), by stored key. */
  note(key: string, set: BindingSet | null): void {
    const now = this.#o.ctx().clock();
    if (set === null) this.#known.delete(key);
    else this.#known.set(key, { nextExpiry: sweepExpired(set, now).nextExpiry ?? earliest(set), learntAt: now });
  }

  #schedule(): void {
    if (this.#stopped) return;
    const jitter = this.#o.jitter ?? Math.random;
    const delay = Math.max(1, Math.round(this.#o.intervalMs * (0.75 + 0.5 * jitter())));
    this.#timer = setTimeout(() => {
      void this.sweep().finally(() => this.#schedule());
    }, delay);
    this.#timer.unref();
  }

  /** One pass; returns the number of expired bindings this instance removed. */
  async sweep(): Promise<number> {
    if (this.#running) return 0;
    this.#running = true;
    const ctx = this.#o.ctx();
    const recheck = this.#o.recheckMs ?? 300_000;
    let removed = 0;
    try {
      const keys = (await this.#o.store.keys(this.#o.batch)).sort();
      ctx.metrics.registrations.set(keys.length);
      let reads = 0;
      const maxReads = this.#o.maxReads ?? 2000;
      // Start after the cursor, wrap around: every key gets its turn even when a pass stops early.
      const start = this.#cursor === undefined ? 0 : Math.max(0, keys.findIndex((k) => k > (this.#cursor ?? '')));
      let last: string | undefined;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[(start + i) % keys.length];
        if (key === undefined) continue;
        const now = ctx.clock();
        const known = this.#known.get(key);
        if (known !== undefined && now - known.learntAt < recheck && (known.nextExpiry === undefined || known.nextExpiry > now)) continue;
        if (reads >= maxReads) break;
        reads++;
        last = key;
        const stored = await this.#o.store.getByKey(key);
        if (stored === undefined) {
          this.#known.delete(key);
          continue;
        }
        const outcome = sweepExpired(stored.value, ctx.clock());
        this.#known.set(key, { nextExpiry: outcome.nextExpiry, learntAt: now });
        if (outcome.next === undefined) continue;
        const won =
          outcome.next === null
            ? await this.#o.store.deleteByKey(key, stored.revision)
            : await this.#o.store.putByKey(key, outcome.next, stored.revision);
        if (!won) {
          this.#known.delete(key); // another instance (or a REGISTER) wrote first; it owns these events
          continue;
        }
        if (outcome.next === null) this.#known.delete(key);
        removed += outcome.expired.length;
        for (const ev of outcome.events) publishRegEvent(ctx, ev);
      }
      this.#cursor = reads >= maxReads ? last : undefined;
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

function earliest(set: BindingSet): number | undefined {
  let min: number | undefined;
  for (const b of set.bindings) if (min === undefined || b.expiresAt < min) min = b.expiresAt;
  return min;
}
