/**
 * The DNS port on `node:dns/promises` Resolver, with configurable servers (`host:port`, `[v6]:port`
 * or a bare address), per-query timeout and tries. Node reports TTLs for A/AAAA only: NAPTR and
 * SRV answers are cached for `recordTtlSeconds` (default 60), a documented approximation.
 */
import { Resolver } from 'node:dns/promises';
import { ResolverError, ResolverErrorCode } from './errors.js';
import type { AddressRecord, DnsPort, NaptrRecord, RecordSet, SrvRecord } from './types.js';

export interface NodeDnsOptions {
  /** DNS servers; default: the system's. */
  readonly servers?: readonly string[];
  /** Per-query timeout, ms (default 2000). */
  readonly timeoutMs?: number;
  /** Attempts per server (default 2). */
  readonly tries?: number;
  readonly recordTtlSeconds?: number;
}

/** Answers that mean "no such records" (cached as negative), not a failure. */
const EMPTY_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

export class NodeDnsPort implements DnsPort {
  readonly #resolver: Resolver;
  readonly #recordTtl: number;

  constructor(options: NodeDnsOptions = {}) {
    this.#resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
    if (options.servers !== undefined && options.servers.length > 0) {
      try {
        this.#resolver.setServers([...options.servers]);
      } catch (err) {
        throw new ResolverError(ResolverErrorCode.CONFIG, `bad DNS server list ${options.servers.join(',').slice(0, 200)}`, { cause: err });
      }
    }
    this.#recordTtl = options.recordTtlSeconds ?? 60;
  }

  async resolveNaptr(name: string): Promise<RecordSet<NaptrRecord>> {
    const records = await this.#query(name, 'NAPTR', () => this.#resolver.resolveNaptr(name));
    return { records, ttl: this.#recordTtl };
  }

  async resolveSrv(name: string): Promise<RecordSet<SrvRecord>> {
    const records = await this.#query(name, 'SRV', () => this.#resolver.resolveSrv(name));
    return { records, ttl: this.#recordTtl };
  }

  resolve4(name: string): Promise<readonly AddressRecord[]> {
    return this.#query(name, 'A', () => this.#resolver.resolve4(name, { ttl: true }));
  }

  resolve6(name: string): Promise<readonly AddressRecord[]> {
    return this.#query(name, 'AAAA', () => this.#resolver.resolve6(name, { ttl: true }));
  }

  /** Stops pending queries (they reject). */
  cancel(): void {
    this.#resolver.cancel();
  }

  async #query<T>(name: string, type: string, run: () => Promise<T[]>): Promise<T[]> {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && EMPTY_CODES.has(code)) return [];
      throw new ResolverError(ResolverErrorCode.DNS, `${type} query for ${name.slice(0, 255)} failed: ${typeof code === 'string' ? code : 'error'}`, { cause: err });
    }
  }
}
