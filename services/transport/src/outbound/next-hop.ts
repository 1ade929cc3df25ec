/**
 * Next hop of a request the ua hands over (RFC 3261 §8.1.2, §18.1.1): the explicit `target`, else
 * the top Route (loose routing), else the Request-URI. Only numeric hosts and `localhost` are
 * resolved here; names go through RFC 3263 in the ua, which then sets `target`.
 */
import { isIP } from 'node:net';
import type { SipRequest, SipUri } from '@sipnats/sip-codec';
import { DEFAULT_PORT, TRANSPORTS, plainHost, type HostPort, type TransportName } from '../listeners/address.js';

export interface NextHop extends HostPort {
  readonly transport: TransportName;
}

export class NextHopError extends Error {
  override readonly name = 'NextHopError';
  readonly code = 'TRANSPORT_ERR_NEXT_HOP';
}

/** Transport and address a SIP URI points at. */
export function hopOfUri(uri: SipUri): NextHop {
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') throw new NextHopError(`cannot send to a ${uri.scheme}: URI`);
  const param = uri.params.get('transport');
  let transport: TransportName;
  if (param !== undefined && param !== null) {
    const t = param.toLowerCase();
    if (!(TRANSPORTS as readonly string[]).includes(t)) throw new NextHopError(`unsupported transport "${param}"`);
    transport = t as TransportName;
    if (uri.scheme === 'sips' && transport === 'tcp') transport = 'tls';
    if (uri.scheme === 'sips' && transport === 'ws') transport = 'wss';
  } else {
    transport = uri.scheme === 'sips' ? 'tls' : 'udp';
  }
  const maddr = uri.params.get('maddr');
  let host = plainHost(maddr ?? uri.host);
  if (host.toLowerCase() === 'localhost') host = '127.0.0.1';
  if (isIP(host) === 0) throw new NextHopError(`host "${host}" needs DNS resolution (RFC 3263): pass an explicit target`);
  return { transport, host, port: uri.port ?? DEFAULT_PORT[transport] };
}

export function nextHop(req: SipRequest, target: { transport: TransportName; host: string; port: number } | undefined): NextHop {
  if (target !== undefined) {
    let host = plainHost(target.host);
    if (host.toLowerCase() === 'localhost') host = '127.0.0.1';
    if (isIP(host) === 0) throw new NextHopError(`target host "${target.host}" is not an IP address`);
    return { transport: target.transport, host, port: target.port };
  }
  const route = req.route[0];
  return hopOfUri(route !== undefined ? route.uri : req.requestUri);
}
