/**
 * Builders: requests from parts, and responses to a request per RFC 3261 §8.2.6 (and §12.1.1
 * for Record-Route). Content-Length is always written.
 */
import { SipErrorCode } from './errors.js';
import { H, canonicalHeaderName } from './header-names.js';
import { MessageImpl } from './message.js';
import { parseInternal, resolveOptions } from './parse.js';
import { reasonPhrase } from './reason-phrases.js';
import { assertLineSafe, fail, isToken } from './scan.js';
import type { HeaderField, SipRequest, SipResponse, SipUri } from './types.js';
import { parseUri } from './uri.js';

const BUILD_OPTIONS = resolveOptions({ maxMessageBytes: 16 * 1024 * 1024, maxHeaders: 4096, maxLineBytes: 1024 * 1024, transport: 'stream' }, false);

export interface CreateRequestInit {
  readonly method: string;
  readonly uri: string | SipUri;
  /** Headers in order; a Content-Length given here is replaced by the body's length. */
  readonly headers: readonly HeaderField[];
  readonly body?: Uint8Array | string;
}

export interface CreateResponseOptions {
  /** To tag to add when the request's To has none. */
  readonly toTag?: string;
  /** Extra headers, after the copied ones. */
  readonly headers?: readonly HeaderField[];
  readonly body?: Uint8Array | string;
  readonly contentType?: string;
  /** Copy Record-Route (dialog-creating responses, RFC 3261 §12.1.1). */
  readonly copyRecordRoute?: boolean;
}

function headerLines(headers: readonly HeaderField[]): string {
  let s = '';
  for (const [name, value] of headers) {
    if (!isToken(name)) fail(SipErrorCode.INVALID_VALUE, `header name "${name.slice(0, 32)}" is not a token`);
    assertLineSafe(value, name);
    const canonical = canonicalHeaderName(name);
    if (canonical === 'Content-Length') continue;
    s += `${canonical}: ${value.trim()}\r\n`;
  }
  return s;
}

function finish(head: string, body: Uint8Array | string | undefined): Buffer {
  const b = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const text = `${head}Content-Length: ${b.length}\r\n\r\n`;
  const hl = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(hl + b.length);
  out.write(text, 0, 'utf8');
  out.set(b, hl);
  return out;
}

/** Builds a request. Throws SipParseError(SIP_ERR_INVALID_VALUE) for unusable parts. */
export function createRequest(init: CreateRequestInit): SipRequest {
  if (!isToken(init.method)) fail(SipErrorCode.INVALID_VALUE, `method "${init.method.slice(0, 32)}" is not a token`);
  const uri = typeof init.uri === 'string' ? init.uri : init.uri.raw;
  try {
    parseUri(uri);
  } catch (e) {
    fail(SipErrorCode.INVALID_VALUE, `Request-URI rejected: ${(e as Error).message}`, e);
  }
  const bytes = finish(`${init.method} ${uri} SIP/2.0\r\n${headerLines(init.headers)}`, init.body);
  return parseInternal(bytes, BUILD_OPTIONS) as SipRequest;
}

/** Builds a response to `request` (RFC 3261 §8.2.6). */
export function createResponse(request: SipRequest, status: number, reason?: string, options: CreateResponseOptions = {}): SipResponse {
  if (!(request instanceof MessageImpl)) fail(SipErrorCode.INVALID_VALUE, 'createResponse takes a request made by this codec');
  if (!Number.isInteger(status) || status < 100 || status > 699) fail(SipErrorCode.INVALID_VALUE, `status ${status} is not 100..699`);
  const phrase = reason ?? reasonPhrase(status);
  assertLineSafe(phrase, 'reason phrase');
  let head = `SIP/2.0 ${status} ${phrase}\r\n`;
  for (const v of request.valuesById(H.VIA)) head += `Via: ${v}\r\n`;
  const from = request.firstById(H.FROM);
  let to = request.firstById(H.TO);
  const callId = request.firstById(H.CALL_ID);
  const cseq = request.firstById(H.CSEQ);
  if (from === undefined || to === undefined || callId === undefined || cseq === undefined) {
    fail(SipErrorCode.MISSING_HEADER, 'request lacks From, To, Call-ID or CSeq');
  }
  if (options.toTag !== undefined && request.to.tag === undefined) {
    if (!isToken(options.toTag)) fail(SipErrorCode.INVALID_VALUE, 'To tag is not a token');
    to = `${to};tag=${options.toTag}`;
  }
  head += `From: ${from}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\n`;
  if (options.copyRecordRoute === true) for (const v of request.valuesById(H.RECORD_ROUTE)) head += `Record-Route: ${v}\r\n`;
  if (options.headers) head += headerLines(options.headers);
  if (options.contentType !== undefined) head += headerLines([['Content-Type', options.contentType]]);
  return parseInternal(finish(head, options.body), BUILD_OPTIONS) as SipResponse;
}
