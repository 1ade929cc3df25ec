/**
 * RFC 3263 target resolution: the DNS port it runs on, and what it produces.
 */

export interface NaptrRecord {
  readonly order: number;
  readonly preference: number;
  readonly flags: string;
  readonly service: string;
  readonly regexp: string;
  readonly replacement: string;
}

export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly name: string;
}

export interface AddressRecord {
  readonly address: string;
  /** Seconds. */
  readonly ttl: number;
}

/** A record set with the TTL it may be cached for (seconds). */
export interface RecordSet<T> {
  readonly records: readonly T[];
  readonly ttl: number;
}

/**
 * DNS queries. A name that does not exist or has no records of the type resolves to an empty set
 * (NXDOMAIN / NODATA); other failures (timeout, SERVFAIL, refused) reject with a ResolverError.
 */
export interface DnsPort {
  resolveNaptr(name: string): Promise<RecordSet<NaptrRecord>>;
  resolveSrv(name: string): Promise<RecordSet<SrvRecord>>;
  resolve4(name: string): Promise<readonly AddressRecord[]>;
  resolve6(name: string): Promise<readonly AddressRecord[]>;
}

export type SipTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** One next hop: the transport, the name it came from (for TLS), the address and port to use. */
export interface ResolvedTarget {
  readonly transport: SipTransport;
  /** The host name the address was found for (the URI host, or an SRV target). */
  readonly host: string;
  /** IPv4 or IPv6 address (no brackets). */
  readonly address: string;
  readonly port: number;
}

/** The part of a URI resolution needs. `@sipnats/sip-codec`'s SipUri satisfies it. */
export interface ResolvableUri {
  readonly scheme: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: ReadonlyMap<string, string | null>;
}
