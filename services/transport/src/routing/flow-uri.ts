/**
 * Record-Route / Path URIs that carry a flow token (RFC 3261 §16.6 step 4, RFC 3327 §4.3,
 * RFC 5626 §5.3 in spirit): `<sip:HOST:PORT;transport=tcp;lr;sn-flow=TOKEN>`. When a request later
 * comes back with this URI as its top Route, or ua sends a request with it as top Route, the token
 * names the instance and flow to use.
 */
import type { HostPort, TransportName } from '../listeners/address.js';
import { sipHost } from '../listeners/address.js';

/** URI parameter holding the flow token. */
export const FLOW_PARAM = 'sn-flow';

/** The URI (without angle brackets) for a flow reached through `advertised` over `transport`. */
export function flowUri(advertised: HostPort, transport: TransportName, token: string): string {
  const scheme = transport === 'tls' || transport === 'wss' ? 'sips' : 'sip';
  const tp = transport === 'udp' ? '' : `;transport=${transport}`;
  return `${scheme}:${sipHost(advertised.host)}:${advertised.port}${tp};lr;${FLOW_PARAM}=${token}`;
}

/** A name-addr value for a Record-Route or Path header. */
export function flowRouteHeader(advertised: HostPort, transport: TransportName, token: string): string {
  return `<${flowUri(advertised, transport, token)}>`;
}
