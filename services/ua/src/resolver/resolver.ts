/**
 * RFC 3263 §4: locating the SIP servers of a URI, as an ordered list of next hops.
 *
 * - §4.1 transport: the `transport` parameter when present (sips + tcp = tls); else for a numeric
 *   host or an explicit port UDP (sip) or TLS (sips); else the NAPTR records of the host
 *   (services SIP+D2U, SIP+D2T, SIPS+D2T, SIP+D2W, SIPS+D2W; sips URIs use only SIPS+*), by order
 *   then preference; without NAPTR, SRV for each supported transport; without SRV, UDP (sip) or
 *   TLS (sips).
 * - §4.2 port and address: a numeric host as it is; an explicit port: A/AAAA of the host; else
 *   SRV (`_sip._udp`, `_sip._tcp`, `_sips._tcp`, `_sip._ws`, `_sips._ws`) ordered per RFC 2782,
 *   each target's A/AAAA; without SRV, A/AAAA on 5060 (5061 for TLS/sips). `maddr` replaces
 *   the host.
 * - Every DNS answer is cached for its TTL (clamped to `maxTtlSeconds`) in a bounded LRU; a name
 *   without records is cached for `negativeTtlSeconds`. Query failures are not cached.
 */
import { isIP } from 'node:net';
import { ResolverError, ResolverErrorCode } from './errors.js';
import { orderSrv } from './srv-order.js';
import { TtlCache } from './ttl-cache.js';
import type { AddressRecord, DnsPort, NaptrRecord, RecordSet, ResolvableUri, ResolvedTarget, SipTransport, SrvRecord } from './types.js';

export interface SipResolverOptions {
  readonly dns: DnsPort;
  readonly clock: () => number;
  /** [0, 1): RFC 2782 weighted selection. */
  readonly random: () => number;
  /** Transports we can send on, in SRV lookup order (default udp, tcp, tls). */
  readonly transports?: readonly SipTransport[];
  /** Look up AAAA records too (default true; A results come first). */
  readonly ipv6?: boolean;
  readonly maxEntries?: number;
  readonly negativeTtlSeconds?: number;
  readonly maxTtlSeconds?: number;
  /** Targets returned at most (default 16). */
  readonly maxTargets?: number;
}

const NAPTR_SERVICES: Readonly<Record<string, { transport: SipTransport; secure: boolean }>> = {
  'SIP+D2U': { transport: 'udp', secure: false },
  'SIP+D2T': { transport: 'tcp', secure: false },
  'SIPS+D2T': { transport: 'tls', secure: true },
  'SIP+D2W': { transport: 'ws', secure: false },
  'SIPS+D2W': { transport: 'wss', secure: true },
};

const SRV_PREFIX: Readonly<Record<SipTransport, string>> = {
  udp: '_sip._udp',
  tcp: '_sip._tcp',
  tls: '_sips._tcp',
  ws: '_sip._ws',
  wss: '_sips._ws',
};

const SECURE: ReadonlySet<SipTransport> = new Set(['tls', 'wss']);

function defaultPort(transport: SipTransport): number {
  if (transport === 'ws') return 80;
  if (transport === 'wss') return 443;
  return SECURE.has(transport) ? 5061 : 5060;
}

type Cached = { readonly kind: 'naptr'; readonly set: RecordSet<NaptrRecord> } | { readonly kind: 'srv'; readonly set: RecordSet<SrvRecord> } | { readonly kind: 'addr'; readonly records: readonly AddressRecord[] };

export class SipResolver {
  readonly #o: SipResolverOptions;
  readonly #cache: TtlCache<Cached>;
  readonly #transports: readonly SipTransport[];

  constructor(options: SipResolverOptions) {
    this.#o = options;
    this.#cache = new TtlCache(options.maxEntries ?? 1024, options.clock);
    this.#transports = options.transports ?? ['udp', 'tcp', 'tls'];
    if (this.#transports.length === 0) throw new ResolverError(ResolverErrorCode.CONFIG, 'at least one transport');
  }

  /** Ordered next hops for `uri` (empty when the name has no usable records). */
  async resolve(uri: ResolvableUri): Promise<ResolvedTarget[]> {
    const scheme = uri.scheme.toLowerCase();
    if (scheme !== 'sip' && scheme !== 'sips') throw new ResolverError(ResolverErrorCode.INVALID_URI, `cannot resolve a ${scheme} URI`);
    const secureUri = scheme === 'sips';
    const maddr = uri.params.get('maddr');
    const rawHost = maddr === undefined || maddr === null || maddr === '' ? uri.host : maddr;
    const host = rawHost.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
    if (host === '') throw new ResolverError(ResolverErrorCode.INVALID_URI, 'URI without a host');
    const explicit = this.#transportParam(uri.params.get('transport'), secureUri);
    const max = this.#o.maxTargets ?? 16;

    if (isIP(host) !== 0) {
      const transport = explicit ?? (secureUri ? 'tls' : 'udp');
      return [{ transport, host, address: host, port: uri.port ?? defaultPort(transport) }];
    }
    if (uri.port !== undefined) {
      const transport = explicit ?? (secureUri ? 'tls' : 'udp');
      return (await this.#addresses(host, transport, uri.port)).slice(0, max);
    }
    if (explicit !== undefined) {
      const viaSrv = await this.#srvTargets(`${SRV_PREFIX[explicit]}.${host}`, explicit);
      return (viaSrv.length > 0 ? viaSrv : await this.#addresses(host, explicit, defaultPort(explicit))).slice(0, max);
    }

    const out: ResolvedTarget[] = [];
    const naptr = await this.#naptr(host);
    const services = naptr.records
      .filter((r) => r.flags.toLowerCase() === 's')
      .map((r) => ({ r, s: NAPTR_SERVICES[r.service.toUpperCase()] }))
      .filter((x): x is { r: NaptrRecord; s: { transport: SipTransport; secure: boolean } } => x.s !== undefined)
      .filter((x) => this.#transports.includes(x.s.transport) && (!secureUri || x.s.secure))
      .sort((a, b) => a.r.order - b.r.order || a.r.preference - b.r.preference);
    for (const { r, s } of services) {
      out.push(...(await this.#srvTargets(r.replacement.replace(/\.$/, ''), s.transport)));
      if (out.length >= max) return out.slice(0, max);
    }
    if (out.length > 0) return out;
    // No NAPTR: SRV for each transport we support (sips: secure ones only).
    for (const transport of this.#transports) {
      if (secureUri && !SECURE.has(transport)) continue;
      out.push(...(await this.#srvTargets(`${SRV_PREFIX[transport]}.${host}`, transport)));
      if (out.length >= max) return out.slice(0, max);
    }
    if (out.length > 0) return out;
    const transport: SipTransport = secureUri ? 'tls' : this.#transports.includes('udp') ? 'udp' : (this.#transports[0] ?? 'udp');
    return (await this.#addresses(host, transport, defaultPort(transport))).slice(0, max);
  }

  /** Forgets every cached answer. */
  clear(): void {
    this.#cache.clear();
  }

  #transportParam(value: string | null | undefined, secureUri: boolean): SipTransport | undefined {
    if (value === undefined || value === null) return undefined;
    const t = value.toLowerCase();
    if (t === 'udp' || t === 'tcp' || t === 'tls' || t === 'ws' || t === 'wss') {
      if (secureUri && t === 'tcp') return 'tls';
      if (secureUri && t === 'ws') return 'wss';
      if (secureUri && t === 'udp') throw new ResolverError(ResolverErrorCode.INVALID_URI, 'a sips URI cannot use transport=udp');
      return t;
    }
    throw new ResolverError(ResolverErrorCode.INVALID_URI, `unsupported transport ${value.slice(0, 32)}`);
  }

  #ttlMs(seconds: number): number {
    const max = this.#o.maxTtlSeconds ?? 3600;
    return Math.max(0, Math.min(seconds, max)) * 1000;
  }

  #negativeMs(): number {
    return (this.#o.negativeTtlSeconds ?? 30) * 1000;
  }

  async #naptr(name: string): Promise<RecordSet<NaptrRecord>> {
    const key = `naptr:${name}`;
    const hit = this.#cache.get(key);
    if (hit?.kind === 'naptr') return hit.set;
    const set = await this.#o.dns.resolveNaptr(name);
    this.#cache.set(key, { kind: 'naptr', set }, set.records.length === 0 ? this.#negativeMs() : this.#ttlMs(set.ttl));
    return set;
  }

  async #srv(name: string): Promise<RecordSet<SrvRecord>> {
    const key = `srv:${name}`;
    const hit = this.#cache.get(key);
    if (hit?.kind === 'srv') return hit.set;
    const set = await this.#o.dns.resolveSrv(name);
    this.#cache.set(key, { kind: 'srv', set }, set.records.length === 0 ? this.#negativeMs() : this.#ttlMs(set.ttl));
    return set;
  }

  async #addr(name: string, family: 4 | 6): Promise<readonly AddressRecord[]> {
    const key = `a${family}:${name}`;
    const hit = this.#cache.get(key);
    if (hit?.kind === 'addr') return hit.records;
    const records = family === 4 ? await this.#o.dns.resolve4(name) : await this.#o.dns.resolve6(name);
    const ttl = records.length === 0 ? this.#negativeMs() : this.#ttlMs(Math.min(...records.map((r) => r.ttl)));
    this.#cache.set(key, { kind: 'addr', records }, ttl);
    return records;
  }

  async #srvTargets(name: string, transport: SipTransport): Promise<ResolvedTarget[]> {
    const set = await this.#srv(name);
    const out: ResolvedTarget[] = [];
    for (const srv of orderSrv(set.records, this.#o.random)) {
      const target = srv.name.replace(/\.$/, '').toLowerCase();
      out.push(...(await this.#addresses(target, transport, srv.port)));
    }
    return out;
  }

  async #addresses(host: string, transport: SipTransport, port: number): Promise<ResolvedTarget[]> {
    if (isIP(host) !== 0) return [{ transport, host, address: host, port }];
    const v4 = await this.#addr(host, 4);
    const v6 = this.#o.ipv6 === false ? [] : await this.#addr(host, 6);
    return [...v4, ...v6].map((a) => ({ transport, host, address: a.address, port }));
  }
}
