/**
 * Checks every request passes before its method handler (RFC 3261 §8.2): method allowed (405 for a
 * standard method this ua does not serve, 501 for one it does not know, both with Allow),
 * Max-Forwards not exhausted (483), URI scheme understood (416), Require understood (420), and an
 * INVITE body we can read (415). Each failure is a complete response spec.
 */
import type { SipRequest } from '@sipnats/sip-codec';
import { DEFAULT_ALLOW, SUPPORTED } from '../dialog/types.js';
import { respond } from '../response.js';
import type { Header, ResponseSpec } from '../sip-view.js';

/** Methods the ua answers (Allow header). */
export const ALLOW: readonly string[] = [...DEFAULT_ALLOW, 'REGISTER'];
/** Option tags the ua understands (Supported header). */
export const SUPPORTED_TAGS: readonly string[] = [...SUPPORTED, 'path'];
export const ACCEPT = 'application/sdp';
const SCHEMES = new Set(['sip', 'sips', 'tel']);
/** Standard SIP methods (RFC 3261, 3262, 3265, 3311, 3428, 3515, 3903, 6086, 2976): known, so 405 not 501. */
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);
const BODY_TYPES = new Set(['application/sdp']);

export function allowHeader(): Header {
  return ['Allow', ALLOW.join(', ')];
}

export function supportedHeader(): Header {
  return ['Supported', SUPPORTED_TAGS.join(', ')];
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

/** A response refusing the request, or undefined when it may go on. Throws SipParseError for bad headers. */
export function checkRequest(req: SipRequest, toTag: string): ResponseSpec | undefined {
  const method = req.method;
  const refuse = (status: number, headers: Header[] = []): ResponseSpec => respond(req, status, { toTag, headers });
  // §8.2.1: a method the UAS recognises but does not allow gets 405; §21.5.2: one it does not
  // recognise at all gets 501. Both carry Allow.
  if (!ALLOW.includes(method)) return refuse(KNOWN_METHODS.has(method) ? 405 : 501, [allowHeader()]);
  if (method === 'ACK' || method === 'CANCEL') return undefined;
  if (req.maxForwards === 0) return refuse(483);
  if (!SCHEMES.has(req.requestUri.scheme.toLowerCase())) return refuse(416);
  const unsupported = req.require.filter((t) => !SUPPORTED_TAGS.includes(t.toLowerCase()));
  if (unsupported.length > 0) return refuse(420, [['Unsupported', unsupported.join(', ')]]);
  if ((method === 'INVITE' || method === 'UPDATE') && req.body.byteLength > 0) {
    const type = mediaType(req.contentType);
    if (type === undefined || !BODY_TYPES.has(type)) return refuse(415, [['Accept', ACCEPT]]);
  }
  return undefined;
}

/** 200 to OPTIONS: what we allow, accept and support (RFC 3261 §11.2). */
export function optionsResponse(req: SipRequest, toTag: string): ResponseSpec {
  return respond(req, 200, { toTag, headers: [allowHeader(), ['Accept', ACCEPT], supportedHeader(), ['Accept-Language', 'en']] });
}
