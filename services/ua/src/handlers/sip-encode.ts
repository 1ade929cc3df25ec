/**
 * Turns the core's ResponseSpec / RequestSpec data into SIP bytes: start line, headers in the given
 * order, Content-Type and Content-Length from the body. Header names and values are checked (no
 * CR, LF or NUL), so a value from a command or a peer can never inject a header.
 */
import { UA_ERROR, UaError } from '../errors.js';
import type { BodySpec, Header, RequestSpec, ResponseSpec } from '../sip-view.js';

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const UNSAFE = /[\r\n\0]/;

function headerBlock(headers: readonly Header[], body: BodySpec | undefined, extra: readonly Header[]): { head: string; body: Buffer } {
  let head = '';
  for (const [name, value] of [...headers, ...extra]) {
    if (!TOKEN.test(name)) throw new UaError(UA_ERROR.encode, `header name ${JSON.stringify(name.slice(0, 40))} is not a token`);
    if (UNSAFE.test(value)) throw new UaError(UA_ERROR.encode, `header ${name} holds a line break or NUL`);
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'l') continue;
    if (body !== undefined && (lower === 'content-type' || lower === 'c')) continue;
    head += `${name}: ${value}\r\n`;
  }
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body.content, 'utf8');
  if (body !== undefined) {
    if (UNSAFE.test(body.contentType)) throw new UaError(UA_ERROR.encode, 'Content-Type holds a line break or NUL');
    head += `Content-Type: ${body.contentType}\r\n`;
  }
  head += `Content-Length: ${bytes.length}\r\n\r\n`;
  return { head, body: bytes };
}

/** SIP bytes of a response. `extra` headers (e.g. Server) go after the spec's. */
export function encodeResponse(spec: ResponseSpec, extra: readonly Header[] = []): Buffer {
  if (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 699) throw new UaError(UA_ERROR.encode, `status ${spec.status} is not 100..699`);
  if (UNSAFE.test(spec.reason)) throw new UaError(UA_ERROR.encode, 'reason phrase holds a line break');
  const { head, body } = headerBlock(spec.headers, spec.body, extra);
  return Buffer.concat([Buffer.from(`SIP/2.0 ${spec.status} ${spec.reason}\r\n${head}`, 'utf8'), body]);
}

/** SIP bytes of a request (without Via: the transport adds its own). */
export function encodeRequest(spec: RequestSpec, extra: readonly Header[] = []): Buffer {
  if (!TOKEN.test(spec.method)) throw new UaError(UA_ERROR.encode, `method ${JSON.stringify(spec.method.slice(0, 40))} is not a token`);
  if (/[\s]/.test(spec.requestUri) || spec.requestUri === '') throw new UaError(UA_ERROR.encode, 'Request-URI is empty or holds whitespace');
  const { head, body } = headerBlock(spec.headers, spec.body, extra);
  return Buffer.concat([Buffer.from(`${spec.method} ${spec.requestUri} SIP/2.0\r\n${head}`, 'utf8'), body]);
}
