/**
 * parseMessage: one pass over the bytes with native indexOf for line ends (faster than a JS
 * byte loop for lines of typical length), offsets kept into the input in a plain integer array,
 * header values decoded only when read. Eager checks are limited to what a
 * transport needs to answer 400/505 on its own (see index.ts for the contract).
 */
import { TOKEN } from './chars.js';
import { SipErrorCode, SipParseError } from './errors.js';
import { H, headerIdFromBytes } from './header-names.js';
import { RequestImpl, ResponseImpl } from './kinds.js';
import type { MessageLayout } from './header-store.js';
import { checkUri } from './check.js';
import { methodName } from './methods.js';
import { FOLDED, HS, ID_FLAGS, ID_MASK, LINE_END, LINE_START, NAME_END, VALUE_END, VALUE_START, latin1, rawValue, utf8, type HeaderTable } from './raw-headers.js';
import { found, validateHeaders } from './validate.js';
import type { ParseOptions, SipMessage } from './types.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;

export const DEFAULT_LIMITS = { maxMessageBytes: 65536, maxHeaders: 256, maxLineBytes: 8192 } as const;


export interface InternalOptions {
  readonly transport: 'datagram' | 'stream';
  readonly maxMessageBytes: number;
  readonly maxHeaders: number;
  readonly maxLineBytes: number;
  /** Check the headers every request/response needs (off for messages built locally). */
  readonly validate: boolean;
  /** A request may lack Via (ParseOptions.allowMissingVia). */
  readonly allowMissingVia: boolean;
}

export function resolveOptions(o: ParseOptions | undefined, validate = true): InternalOptions {
  return {
    transport: o?.transport ?? 'datagram',
    maxMessageBytes: o?.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes,
    maxHeaders: o?.maxHeaders ?? DEFAULT_LIMITS.maxHeaders,
    maxLineBytes: o?.maxLineBytes ?? DEFAULT_LIMITS.maxLineBytes,
    validate,
    allowMissingVia: o?.allowMissingVia === true,
  };
}

const DEFAULT_OPTIONS = resolveOptions(undefined);

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The header table under construction, reused; each message gets a copy of its part. Made with
 * Array.from, not `new Array(n).fill(0)`, so that V8 keeps it (and the copies) packed, not holey:
 * reads of a holey array check for holes.
 */
const scratch: HeaderTable = Array.from({ length: 64 * HS }, () => 0);
/**
 * By header id Via (1) .. Content-Length (7), contiguous in H: table index of the header's first
 * line, or -1; filled by the line loop so that the checks after it need not walk the table again.
 */
const first: number[] = Array.from({ length: H.CONTENT_LENGTH + 1 }, () => -1);

type Kind = 'request' | 'response' | undefined;

function err(code: SipParseError['code'], message: string, offset: number, kind: Kind, cause?: unknown): SipParseError {
  return new SipParseError(code, message, { offset, messageKind: kind, cause });
}

/**
 * Parses one SIP message. Throws SipParseError (and nothing else) on bad input.
 * Over datagrams (default) a missing Content-Length means the body is the rest of the input and
 * octets after Content-Length are ignored; over streams Content-Length is required.
 */
export function parseMessage(bytes: Uint8Array, options?: ParseOptions): SipMessage {
  return parseInternal(asBuffer(bytes), options === undefined ? DEFAULT_OPTIONS : resolveOptions(options));
}

export function parseInternal(buf: Buffer, opt: InternalOptions): SipMessage {
  const end = buf.length;
  if (end > opt.maxMessageBytes) {
    throw err(SipErrorCode.MESSAGE_TOO_LARGE, `message of ${end} bytes exceeds ${opt.maxMessageBytes}`, opt.maxMessageBytes, undefined);
  }
  let p = 0;
  while (p < end && (buf[p] === LF || (buf[p] === CR && buf[p + 1] === LF))) p += buf[p] === LF ? 1 : 2;
  if (p >= end) throw err(SipErrorCode.EMPTY, 'no message: input is empty or only line ends', p, undefined);
  const start = p;
  let nl = buf.indexOf(LF, p);
  if (nl < 0 ? end - p > opt.maxLineBytes : nl - p > opt.maxLineBytes) {
    throw err(SipErrorCode.LINE_TOO_LONG, `start line longer than ${opt.maxLineBytes} bytes`, p, undefined);
  }
  if (nl < 0) throw err(SipErrorCode.HEADER_UNTERMINATED, 'start line does not end', end, undefined);
  let le = nl > p && buf[nl - 1] === CR ? nl - 1 : nl;
  // The next CR at or after the line being read: a CR anywhere but just before LF is refused.
  let cr = buf.indexOf(CR, p);

  // ---- start line ---------------------------------------------------------------------------
  let kind: Kind;
  let method = '';
  let uriStart = 0;
  let uriEnd = 0;
  let status = 0;
  let reason = '';
  let methodEnd = 0;
  if (le - p >= 4 && (buf[p] === 0x53 || buf[p] === 0x73) && ((buf[p + 1] as number) | 0x20) === 0x69 && ((buf[p + 2] as number) | 0x20) === 0x70 && buf[p + 3] === 0x2f) {
    kind = 'response';
    if (!(le - p >= 8 && buf[p + 4] === 0x32 && buf[p + 5] === 0x2e && buf[p + 6] === 0x30 && buf[p + 7] === SP)) {
      throw err(SipErrorCode.VERSION, `unsupported version in status line "${latin1(buf, p, Math.min(le, p + 16))}"`, p, kind);
    }
    const s = p + 8;
    const d0 = buf[s] ?? 0, d1 = buf[s + 1] ?? 0, d2 = buf[s + 2] ?? 0;
    const digits = d0 >= 0x31 && d0 <= 0x36 && d1 >= 0x30 && d1 <= 0x39 && d2 >= 0x30 && d2 <= 0x39;
    if (!digits || le - s < 3 || (le - s > 3 && buf[s + 3] !== SP)) {
      throw err(SipErrorCode.STATUS_CODE, `status code is not 100..699: "${latin1(buf, s, Math.min(le, s + 12))}"`, s, kind);
    }
    status = (d0 - 0x30) * 100 + (d1 - 0x30) * 10 + (d2 - 0x30);
    reason = le - s > 4 ? utf8(buf, s + 4, le) : '';
  } else {
    let m = p;
    while (m < le && TOKEN[buf[m] as number] === 1) m++;
    if (m === p || m >= le || buf[m] !== SP) {
      throw err(SipErrorCode.START_LINE, 'start line is neither a Request-Line nor a Status-Line', m, undefined);
    }
    let te = le;
    while (te > m && (buf[te - 1] === SP || buf[te - 1] === HT)) te--;
    let vs = te;
    while (vs > m && buf[vs - 1] !== SP) vs--;
    if (vs <= m + 1 || te - vs < 4 || ((buf[vs] as number) | 0x20) !== 0x73 || ((buf[vs + 1] as number) | 0x20) !== 0x69 || ((buf[vs + 2] as number) | 0x20) !== 0x70 || buf[vs + 3] !== 0x2f) {
      throw err(SipErrorCode.START_LINE, 'Request-Line has no SIP-Version', vs, undefined);
    }
    kind = 'request';
    // "SIP" is case-insensitive (RFC 3261 §7.1); its first four bytes were checked above.
    if (!(te - vs === 7 && buf[vs + 4] === 0x32 && buf[vs + 5] === 0x2e && buf[vs + 6] === 0x30)) {
      throw err(SipErrorCode.VERSION, `unsupported version "${latin1(buf, vs, Math.min(te, vs + 16))}"`, vs, kind);
    }
    let us = m + 1;
    while (us < vs && buf[us] === SP) us++;
    let ue = vs - 1;
    while (ue > us && buf[ue - 1] === SP) ue--;
    if (ue <= us) throw err(SipErrorCode.REQUEST_URI, 'Request-URI is missing', us, kind);
    for (let i = us; i < ue; i++) {
      const c = buf[i] as number;
      if (c <= SP || c === 0x7f) throw err(SipErrorCode.REQUEST_URI, 'Request-URI contains LWS or a control character', i, kind);
    }
    if (!checkUri(buf, us, ue)) throw err(SipErrorCode.REQUEST_URI, 'Request-URI is not a URI', us, kind);
    method = methodName(buf, p, m);
    methodEnd = m;
    uriStart = us;
    uriEnd = ue;
  }
  const startLineEnd = nl + 1;
  if (cr >= 0 && cr < nl) {
    // A request's elements refuse CR on their own; this catches the reason phrase.
    if (cr < le) throw err(SipErrorCode.START_LINE, 'start line contains a CR that does not end it', cr, kind);
    cr = buf.indexOf(CR, nl + 1);
  }

  // ---- header lines -------------------------------------------------------------------------
  p = startLineEnd;
  let count = 0;
  let blankStart = -1;
  let bodyStart = end;
  const maxSlots = opt.maxHeaders * HS;
  for (let k = H.VIA; k <= H.CONTENT_LENGTH; k++) first[k] = -1;
  // Whether one of From..Max-Forwards, or Content-Length, occurs more than once (Via may repeat).
  let repeated = false;
  let lengthRepeated = false;
  for (;;) {
    if (p >= end) {
      if (opt.transport === 'stream') throw err(SipErrorCode.HEADER_UNTERMINATED, 'header section does not end with an empty line', p, kind);
      blankStart = end;
      bodyStart = end;
      break;
    }
    nl = buf.indexOf(LF, p);
    if (nl < 0 ? end - p > opt.maxLineBytes : nl - p > opt.maxLineBytes) {
      throw err(SipErrorCode.LINE_TOO_LONG, `header line longer than ${opt.maxLineBytes} bytes`, p, kind);
    }
    if (nl < 0) throw err(SipErrorCode.HEADER_UNTERMINATED, 'header line does not end', p, kind);
    le = nl > p && buf[nl - 1] === CR ? nl - 1 : nl;
    if (cr >= 0 && cr < nl) {
      if (cr < le) throw err(SipErrorCode.HEADER_SYNTAX, 'header line contains a CR that does not end it', cr, kind);
      cr = buf.indexOf(CR, nl + 1);
    }
    if (le === p) {
      blankStart = p;
      bodyStart = nl + 1;
      break;
    }
    const c0 = buf[p] as number;
    if (c0 === SP || c0 === HT) {
      if (count === 0) throw err(SipErrorCode.HEADER_SYNTAX, 'continuation line before any header', p, kind);
      const o = (count - 1) * HS;
      let vs = p;
      while (vs < le && (buf[vs] === SP || buf[vs] === HT)) vs++;
      let ve = le;
      while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
      if (vs < ve) {
        if (scratch[o + VALUE_START] === scratch[o + VALUE_END]) scratch[o + VALUE_START] = vs;
        else scratch[o + ID_FLAGS] = (scratch[o + ID_FLAGS] as number) | FOLDED;
        scratch[o + VALUE_END] = ve;
      }
      scratch[o + LINE_END] = nl + 1;
      p = nl + 1;
      continue;
    }
    // buf[le] is the line's CR or LF, which ends both scans without a bound check.
    let q = p;
    while (TOKEN[buf[q] as number] === 1) q++;
    const nameEnd = q;
    while (buf[q] === SP || buf[q] === HT) q++;
    if (nameEnd === p || q >= le || buf[q] !== 0x3a) {
      throw err(SipErrorCode.HEADER_SYNTAX, `malformed header line "${latin1(buf, p, Math.min(le, p + 32))}"`, p, kind);
    }
    q++;
    while (q < le && (buf[q] === SP || buf[q] === HT)) q++;
    let ve = le;
    while (ve > q && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
    const o = count * HS;
    if (o >= maxSlots) throw err(SipErrorCode.TOO_MANY_HEADERS, `more than ${opt.maxHeaders} header lines`, p, kind);
    while (o + HS > scratch.length) scratch.push(0);
    scratch[o + LINE_START] = p;
    scratch[o + NAME_END] = nameEnd;
    scratch[o + VALUE_START] = q;
    scratch[o + VALUE_END] = ve;
    scratch[o + LINE_END] = nl + 1;
    const id = headerIdFromBytes(buf, p, nameEnd);
    scratch[o + ID_FLAGS] = id;
    if (id !== H.OTHER && id <= H.CONTENT_LENGTH) {
      if (first[id] === -1) first[id] = count;
      else if (id === H.CONTENT_LENGTH) lengthRepeated = true;
      else if (id !== H.VIA) repeated = true;
    }
    count++;
    p = nl + 1;
  }
  const h = scratch.slice(0, count * HS);

  // ---- Content-Length and body --------------------------------------------------------------
  let contentLength: number | undefined;
  const firstLength = first[H.CONTENT_LENGTH] as number;
  const lengthsEnd = firstLength < 0 ? 0 : lengthRepeated ? count : firstLength + 1;
  for (let i = Math.max(firstLength, 0); i < lengthsEnd; i++) {
    const o = i * HS;
    if (((h[o + ID_FLAGS] as number) & ID_MASK) !== H.CONTENT_LENGTH) continue;
    const v = contentLengthValue(buf, h, i);
    if (v < 0) throw err(SipErrorCode.CONTENT_LENGTH, 'Content-Length is negative or not a number', h[o + VALUE_START] as number, kind);
    if (contentLength !== undefined && v !== contentLength) {
      throw err(SipErrorCode.CONTENT_LENGTH, 'conflicting Content-Length values', h[o + LINE_START] as number, kind);
    }
    contentLength = v;
  }
  let bodyEnd = end;
  if (contentLength === undefined) {
    if (opt.transport === 'stream') throw err(SipErrorCode.CONTENT_LENGTH_MISSING, 'Content-Length is required on stream transports', blankStart, kind);
  } else {
    if (contentLength > end - bodyStart) {
      throw err(SipErrorCode.BODY_TRUNCATED, `Content-Length ${contentLength} exceeds the ${end - bodyStart} octets that follow`, bodyStart, kind);
    }
    bodyEnd = bodyStart + contentLength;
  }
  if (bodyEnd - start > opt.maxMessageBytes) {
    throw err(SipErrorCode.MESSAGE_TOO_LARGE, `message of ${bodyEnd - start} bytes exceeds ${opt.maxMessageBytes}`, start + opt.maxMessageBytes, kind);
  }

  let eager: number[] | null = null;
  if (opt.validate) {
    validateHeaders(buf, h, count, kind, start, methodEnd, blankStart, first, repeated, opt.allowMissingVia);
    eager = found.slice();
  }
  const layout: MessageLayout = { buf, start, startLineEnd, h, count, blankStart, bodyStart, bodyEnd, contentLength, eager };
  return kind === 'request' ? new RequestImpl(layout, method, uriStart, uriEnd) : new ResponseImpl(layout, status, reason);
}

/** Content-Length value of header i: the number, or -1 when it is not 1*DIGIT. */
function contentLengthValue(buf: Buffer, h: HeaderTable, i: number): number {
  const o = i * HS;
  if (((h[o + ID_FLAGS] as number) & FOLDED) !== 0) {
    const t = rawValue(buf, h, i).trim();
    return /^[0-9]{1,15}$/.test(t) ? Number(t) : -1;
  }
  const s = h[o + VALUE_START] as number;
  const e = h[o + VALUE_END] as number;
  if (s === e || e - s > 15) return -1;
  let v = 0;
  for (let j = s; j < e; j++) {
    const c = buf[j] as number;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}
