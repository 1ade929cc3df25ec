/**
 * Our Contact in dialogs the ua serves. Only the transport knows the address peers must use: its
 * advertised address (SIP_ADVERTISE: public address behind NAT or a Kubernetes Service) rather than
 * the bound one in the envelope's FlowRef. The transport writes `Contact: <sip:user@advertised>`
 * into every INVITE/UPDATE request and every 101–299 response to them that has none, so the ua
 * leaves its own Contact out of what it sends there.
 *
 * The dialog core still gets a local target (the flow's bound address) for its record; the
 * Contact headers carrying exactly that value are dropped on the way out.
 */
import type { Header, RequestSpec, ResponseSpec } from '../sip-view.js';
import type { RequestOrigin } from './context.js';

/** The dialog core's local target for a dialog on this flow (never sent: see withoutOwnContact). */
export function localContact(origin: RequestOrigin): string {
  const f = origin.flow;
  return f.transport === 'udp' ? `sip:sipnats@${f.local}` : `sip:sipnats@${f.local};transport=${f.transport}`;
}

/** Methods whose requests and 1xx/2xx responses get a Contact from the transport. */
const TRANSPORT_FILLED = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

function strip(headers: readonly Header[], localTarget: string): Header[] | undefined {
  const own = `<${localTarget}>`;
  const kept = headers.filter(([name, value]) => {
    const n = name.toLowerCase();
    return !((n === 'contact' || n === 'm') && value.trim() === own);
  });
  return kept.length === headers.length ? undefined : kept;
}

/** A response without our own Contact when the transport fills it in (`method` = CSeq method). */
export function responseWithoutOwnContact(spec: ResponseSpec, method: string, localTarget: string): ResponseSpec {
  if (!TRANSPORT_FILLED.has(method) || spec.status <= 100 || spec.status >= 300) return spec;
  const headers = strip(spec.headers, localTarget);
  return headers === undefined ? spec : { ...spec, headers };
}

/** A request without our own Contact when the transport fills it in. */
export function requestWithoutOwnContact(spec: RequestSpec, localTarget: string): RequestSpec {
  if (!TRANSPORT_FILLED.has(spec.method)) return spec;
  const headers = strip(spec.headers, localTarget);
  return headers === undefined ? spec : { ...spec, headers };
}
