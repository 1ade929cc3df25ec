/**
 * Socket addresses as the transport writes them in `Sipnats-Local` / `Sipnats-Remote`:
 * `ip:port` for IPv4 and `[v6]:port` for IPv6. Parsing is strict: only numeric IPs, port 0..65535.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface SocketAddress {
  /** The IP without brackets. */
  readonly ip: string;
  readonly port: number;
  readonly family: 4 | 6;
}

const MAX_ADDRESS_TEXT = 64;

/** Parses `ip:port` / `[v6]:port`; undefined for anything else (never throws). */
export function parseSocketAddress(text: string | undefined): SocketAddress | undefined {
  if (text === undefined || text.length === 0 || text.length > MAX_ADDRESS_TEXT) return undefined;
  let ip: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    ip = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!isIPv6(ip)) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) return undefined;
    ip = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (!isIPv4(ip)) return undefined;
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { ip, port, family: isIPv4(ip) ? 4 : 6 };
}

/** The canonical text form of an address (`ip:port`, `[v6]:port`). */
export function formatSocketAddress(a: SocketAddress): string {
  return a.family === 6 ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}
