/**
 * RFC 3261 §18.2.1 and RFC 3581 §4: the transport records where a request really came from in the
 * top Via: `received` with the source IP (always, so ua and taps see it), and `rport` with the
 * source port when the client asked for it with a bare `;rport`.
 */
import type { SipRequest } from '@sipnats/sip-codec';
import type { HostPort } from '../listeners/address.js';

export function stampTopVia(req: SipRequest, source: HostPort): void {
  const params: Record<string, string | number | null> = { received: source.host };
  if (req.topVia.rport !== undefined) params['rport'] = source.port;
  req.setTopViaParams(params);
}

/**
 * Where a response to this request goes on an unreliable transport (RFC 3261 §18.2.2 and
 * RFC 3581 §4): received (or sent-by host) and rport (or sent-by port, default 5060).
 */
export function responseDestination(via: { host: string; port: number | undefined; received: string | undefined; rport: number | true | undefined }): HostPort {
  const host = via.received ?? (via.host.startsWith('[') ? via.host.slice(1, -1) : via.host);
  const port = typeof via.rport === 'number' ? via.rport : (via.port ?? 5060);
  return { host, port };
}
