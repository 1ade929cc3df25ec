/**
 * serializeMessage: an unchanged message is its input bytes (a view, no copy); a changed one is
 * its unchanged lines copied byte for byte and its changed lines in canonical form.
 */
import { SipErrorCode, SipParseError } from './errors.js';
import { H } from './header-names.js';
import { RequestImpl } from './kinds.js';
import { MessageImpl } from './message.js';
import { HS, LINE_END, LINE_START } from './raw-headers.js';
import type { SipMessage } from './types.js';

/** Serializes a message made by parseMessage, createRequest or createResponse. */
export function serializeMessage(msg: SipMessage): Uint8Array {
  if (!(msg instanceof MessageImpl)) {
    throw new SipParseError(SipErrorCode.INVALID_VALUE, 'serializeMessage takes messages made by this codec');
  }
  const L = msg.layout;
  if (!msg.modified) return L.buf.subarray(L.start, L.bodyEnd);
  const patch = msg.patchedLine;
  if (patch !== null && msg.editedEntries === null && !msg.isStartLineDirty && !msg.bodyReplaced && L.contentLength !== undefined && L.blankStart < L.bodyStart) {
    // Only one line replaced (the transport's Via stamp on every request): the bytes before and
    // after it are copied as they are, into one buffer.
    const ls = L.h[patch.idx * HS + LINE_START] as number;
    const le = L.h[patch.idx * HS + LINE_END] as number;
    const line = `${patch.name}: ${patch.value}\r\n`;
    const lineBytes = Buffer.byteLength(line, 'utf8');
    const out = Buffer.allocUnsafe(ls - L.start + lineBytes + L.bodyEnd - le);
    L.buf.copy(out, 0, L.start, ls);
    out.write(line, ls - L.start, 'utf8');
    L.buf.copy(out, ls - L.start + lineBytes, le, L.bodyEnd);
    return out;
  }
  const parts: Array<Uint8Array | string> = [];
  if (msg.isStartLineDirty && msg instanceof RequestImpl) parts.push(`${msg.method} ${msg.uri} SIP/2.0\r\n`);
  else parts.push(L.buf.subarray(L.start, L.startLineEnd));
  const entries = msg.editedEntries;
  let hasLength = L.contentLength !== undefined;
  if (entries === null) {
    const patch = msg.patchedLine;
    if (patch === null) parts.push(L.buf.subarray(L.startLineEnd, L.blankStart));
    else {
      parts.push(L.buf.subarray(L.startLineEnd, L.h[patch.idx * HS + LINE_START] as number));
      parts.push(`${patch.name}: ${patch.value}\r\n`);
      parts.push(L.buf.subarray(L.h[patch.idx * HS + LINE_END] as number, L.blankStart));
    }
  } else {
    hasLength = false;
    // Unchanged input lines that still follow each other are copied as one run of bytes.
    let runStart = -1;
    let runEnd = -1;
    for (const e of entries) {
      if (e.id === H.CONTENT_LENGTH) hasLength = true;
      if (e.idx >= 0) {
        const ls = L.h[e.idx * HS + LINE_START] as number;
        const le = L.h[e.idx * HS + LINE_END] as number;
        if (ls === runEnd) runEnd = le;
        else {
          if (runStart >= 0) parts.push(L.buf.subarray(runStart, runEnd));
          runStart = ls;
          runEnd = le;
        }
      } else {
        if (runStart >= 0) parts.push(L.buf.subarray(runStart, runEnd));
        runStart = -1;
        runEnd = -1;
        parts.push(`${e.name}: ${e.value}\r\n`);
      }
    }
    if (runStart >= 0) parts.push(L.buf.subarray(runStart, runEnd));
  }
  const body = msg.body;
  if (!hasLength) parts.push(`Content-Length: ${body.length}\r\n`);
  parts.push(L.blankStart < L.bodyStart ? L.buf.subarray(L.blankStart, L.bodyStart) : '\r\n');
  parts.push(body);
  return concat(parts);
}

/** Joins the parts into one buffer; strings are written as UTF-8 straight into it. */
function concat(parts: ReadonlyArray<Uint8Array | string>): Buffer {
  let total = 0;
  for (const p of parts) total += typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const p of parts) {
    if (typeof p === 'string') off += out.write(p, off, 'utf8');
    else {
      out.set(p, off);
      off += p.length;
    }
  }
  return out;
}
