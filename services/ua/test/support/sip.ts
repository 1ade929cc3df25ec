/** Test helpers: SIP text → parsed request/response through @sipnats/sip-codec. */
import { parseMessage } from '@sipnats/sip-codec';
import type { SipRequest, SipResponse } from '@sipnats/sip-codec';

function bytes(lines: readonly string[], body = ''): Buffer {
  const head = lines.filter((l) => l !== '');
  const withLength = head.some((l) => /^content-length\s*:/i.test(l)) ? head : [...head, `Content-Length: ${Buffer.byteLength(body)}`];
  return Buffer.from(`${withLength.join('\r\n')}\r\n\r\n${body}`);
}

export function request(lines: readonly string[], body = ''): SipRequest {
  const m = parseMessage(bytes(lines, body));
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

export function response(lines: readonly string[], body = ''): SipResponse {
  const m = parseMessage(bytes(lines, body));
  if (m.kind !== 'response') throw new Error('not a response');
  return m;
}

/** The value of the first header named `name` (case-insensitive) in a header list. */
export function header(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

export function headersNamed(headers: readonly (readonly [string, string])[], name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}
