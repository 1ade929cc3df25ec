/**
 * Failover over resolved targets (RFC 3263 §4.3): a request that times out at the transport (408
 * with `timeout`), cannot be sent (a local 503) or gets 503 goes to the next target; the failed
 * target is blacklisted for a while, so later requests try healthy targets first.
 */
import type { ResolvedTarget } from './types.js';

/** Whether a response of a client transaction means "try the next target". */
export function isFailoverResponse(response: { readonly status: number; readonly timeout?: boolean; readonly local?: boolean }): boolean {
  if (response.timeout === true) return true;
  if (response.status === 503) return true;
  return response.status === 408 && response.local === true;
}

export function targetKey(t: Pick<ResolvedTarget, 'transport' | 'address' | 'port'>): string {
  return `${t.transport}:${t.address}:${t.port}`;
}

export interface BlacklistOptions {
  readonly clock: () => number;
  /** How long a failed target stays blacklisted, ms (default 30 000). */
  readonly ttlMs?: number;
  /** Entries at most (default 1024; the oldest go first). */
  readonly maxEntries?: number;
}

/** Failed targets with an expiry, bounded. Shared by every call of the process. */
export class TargetBlacklist {
  readonly #until = new Map<string, number>();
  readonly #clock: () => number;
  readonly #ttl: number;
  readonly #max: number;

  constructor(options: BlacklistOptions) {
    this.#clock = options.clock;
    this.#ttl = options.ttlMs ?? 30_000;
    this.#max = options.maxEntries ?? 1024;
  }

  add(target: Pick<ResolvedTarget, 'transport' | 'address' | 'port'>): void {
    const key = targetKey(target);
    this.#until.delete(key);
    this.#until.set(key, this.#clock() + this.#ttl);
    while (this.#until.size > this.#max) {
      const oldest = this.#until.keys().next().value;
      if (oldest === undefined) break;
      this.#until.delete(oldest);
    }
  }

  has(target: Pick<ResolvedTarget, 'transport' | 'address' | 'port'>): boolean {
    const key = targetKey(target);
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until <= this.#clock()) {
      this.#until.delete(key);
      return false;
    }
    return true;
  }

  get size(): number {
    return this.#until.size;
  }
}

/**
 * Walks the targets of one request: healthy targets in resolver order, then blacklisted ones (a
 * blacklist never leaves a request without a target). `fail` blacklists a target.
 */
export class Failover {
  readonly #order: readonly ResolvedTarget[];
  readonly #blacklist: TargetBlacklist;
  #index = 0;

  constructor(targets: readonly ResolvedTarget[], blacklist: TargetBlacklist) {
    this.#blacklist = blacklist;
    const seen = new Set<string>();
    const unique = targets.filter((t) => {
      const k = targetKey(t);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    this.#order = [...unique.filter((t) => !blacklist.has(t)), ...unique.filter((t) => blacklist.has(t))];
  }

  /** Every target in the order they will be tried. */
  candidates(): readonly ResolvedTarget[] {
    return this.#order;
  }

  /** The next target to try, or undefined when every one was tried. */
  next(): ResolvedTarget | undefined {
    const t = this.#order[this.#index];
    if (t !== undefined) this.#index += 1;
    return t;
  }

  /** Reports the outcome for `target`: a failover response blacklists it; true = try the next one. */
  report(target: ResolvedTarget, response: Parameters<typeof isFailoverResponse>[0]): boolean {
    if (!isFailoverResponse(response)) return false;
    this.#blacklist.add(target);
    return this.#index < this.#order.length;
  }
}

/** The OutMessage `target` of a resolved target (the address, not the name). */
export function outTarget(t: ResolvedTarget): { transport: ResolvedTarget['transport']; host: string; port: number } {
  return { transport: t.transport, host: t.address, port: t.port };
}
