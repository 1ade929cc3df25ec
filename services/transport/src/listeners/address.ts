/**
 * Listener and advertised-address specifications: `udp:0.0.0.0:5060`, `tcp:[::]:5060`,
 * `ws:127.0.0.1:8080`, and how addresses are written in SIP headers and raw-message metadata.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export const TRANSPORTS = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** Upper-case Via transport token per transport (RFC 3261 §18, RFC 7118 §5). */
export const VIA_TRANSPORT: Readonly<Record<TransportName, string>> = {
  udp: 'UDP',
  tcp: 'TCP',
  tls: 'TLS',
  ws: 'WS',
  wss: 'WSS',
};

/** Default port per transport when a spec or a URI leaves it out. */
export const DEFAULT_PORT: Readonly<Record<TransportName, number>> = {
  udp: 5060,
  tcp: 5060,
  tls: 5061,
  ws: 80,
  wss: 443,
};

export function isReliable(t: TransportName): boolean {
  return t !== 'udp';
}

export function isSecure(t: TransportName): boolean {
  return t === 'tls' || t === 'wss';
}

export interface HostPort {
  /** IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

export interface ListenSpec extends HostPort {
  readonly transport: TransportName;
}

export class AddressSpecError extends Error {
  override readonly name = 'AddressSpecError';
  readonly code = 'TRANSPORT_ERR_ADDRESS_SPEC';
}

function isTransport(s: string): s is TransportName {
  return (TRANSPORTS as readonly string[]).includes(s);
}

/** Parses `host`, `host:port`, `[v6]`, `[v6]:port`; port undefined when absent. */
export function parseHostPort(text: string): { host: string; port: number | undefined } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw new AddressSpecError(`unterminated IPv6 reference in "${text}"`);
    host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new AddressSpecError(`unexpected "${rest}" after IPv6 reference in "${text}"`);
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) throw new AddressSpecError(`"${host}" is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    } else {
      host = text;
    }
    if (host.includes(':')) throw new AddressSpecError(`IPv6 address must be in brackets: "${text}"`);
  }
  if (host === '') throw new AddressSpecError(`missing host in "${text}"`);
  if (!/^[A-Za-z0-9.:%_-]+$/.test(host)) throw new AddressSpecError(`invalid host "${host}"`);
  if (portText === undefined) return { host, port: undefined };
  if (!/^[0-9]{1,5}$/.test(portText)) throw new AddressSpecError(`invalid port "${portText}" in "${text}"`);
  const port = Number(portText);
  if (port > 65535) throw new AddressSpecError(`port out of range in "${text}"`);
  return { host, port };
}

/** Parses one `transport:host:port` listener spec (the port may be 0: an ephemeral port). */
export function parseListenSpec(text: string): ListenSpec {
  const colon = text.indexOf(':');
  const t = colon < 0 ? '' : text.slice(0, colon).toLowerCase();
  if (!isTransport(t)) throw new AddressSpecError(`"${text}": expected one of ${TRANSPORTS.join(', ')} followed by :host:port`);
  const hp = parseHostPort(text.slice(colon + 1));
  if (isIP(hp.host) === 0) throw new AddressSpecError(`"${text}": a listener binds an IP address, not a name`);
  return { transport: t, host: hp.host, port: hp.port ?? DEFAULT_PORT[t] };
}

/**
 * Advertised addresses: either one `host[:port]` for every listener, or a comma list of
 * `transport:host[:port]`. Returns a lookup that gives the advertised address for a listener
 * (its own bound address when nothing is advertised).
 */
export interface AdvertiseRule {
  readonly transport: TransportName | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

export function parseAdvertise(items: readonly string[]): AdvertiseRule[] {
  const rules: AdvertiseRule[] = [];
  for (const item of items) {
    const colon = item.indexOf(':');
    const maybe = colon < 0 ? '' : item.slice(0, colon).toLowerCase();
    if (isTransport(maybe)) {
      const hp = parseHostPort(item.slice(colon + 1));
      rules.push({ transport: maybe, host: hp.host, port: hp.port });
    } else {
      const hp = parseHostPort(item);
      rules.push({ transport: undefined, host: hp.host, port: hp.port });
    }
  }
  return rules;
}

export function advertisedFor(rules: readonly AdvertiseRule[], bound: ListenSpec, boundPort: number): HostPort {
  const rule = rules.find((r) => r.transport === bound.transport) ?? rules.find((r) => r.transport === undefined);
  if (rule === undefined) {
    const host = bound.host === '0.0.0.0' ? firstAddress(4) : bound.host === '::' ? firstAddress(6) : bound.host;
    return { host, port: boundPort };
  }
  return { host: rule.host, port: rule.port ?? boundPort };
}

/** `1.2.3.4:5060` or `[::1]:5060`: the form used in raw-message headers and flow ids. */
export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** A host as written in a SIP URI or Via sent-by (IPv6 in brackets). */
export function sipHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** Strips brackets of an IPv6 reference and IPv4-mapped prefixes for comparison and sockets. */
export function plainHost(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.startsWith('::ffff:') && isIP(h.slice(7)) === 4 ? h.slice(7) : h;
}

/** First non-internal interface address of a family (loopback when there is none). */
function firstAddress(family: 4 | 6): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === (family === 4 ? 'IPv4' : 'IPv6') && !a.address.startsWith('fe80')) return a.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}
