/**
 * StreamFramer: frames SIP messages on a byte stream (TCP, TLS) by Content-Length
 * (RFC 3261 §18.3) and reports CRLF keep-alives (RFC 5626 §3.5.1).
 *
 * Linear in the input whatever its chunking: each byte is searched once for line ends (the scan
 * resumes where it stopped) and once more by the parser when the message is complete. Memory is
 * bounded by maxMessageBytes plus one chunk. Emitted messages are views into buffers the framer
 * never writes again.
 */
import { SipErrorCode, SipParseError } from './errors.js';
import { H, headerIdFromBytes } from './header-names.js';
import { latin1 } from './raw-headers.js';
import { DEFAULT_LIMITS, asBuffer, parseInternal, resolveOptions, type InternalOptions } from './parse.js';
import type { SipLimits, SipMessage } from './types.js';

const CR = 0x0d;
const LF = 0x0a;

export type FramerEvent =
  /** A framed and parsed message; `bytes` is exactly its octets. */
  | { readonly type: 'message'; readonly message: SipMessage; readonly bytes: Uint8Array }
  /** A framed message whose content is invalid; the stream stays usable (answer error.answer). */
  | { readonly type: 'invalid'; readonly error: SipParseError; readonly bytes: Uint8Array }
  /** CRLFCRLF between messages: the peer pings; answer with a CRLF pong. */
  | { readonly type: 'ping' }
  /** A lone CRLF between messages: a pong (or a stray line end before a message). */
  | { readonly type: 'pong' }
  /** A framing error: the stream cannot be resynchronised; close the connection. */
  | { readonly type: 'error'; readonly error: SipParseError };

export class StreamFramer {
  private readonly opt: InternalOptions;
  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  /** Start of the message being framed. */
  private pos = 0;
  /** Where the line scan resumes. */
  private scan = 0;
  private lines = 0;
  private contentLength = -1;
  /** Text of the Content-Length value being read (folded lines joined), null outside one. */
  private clText: string | null = null;
  /** Where that Content-Length line starts, relative to the message. */
  private clLine = 0;
  /** Total size of the message once its header section is complete; -1 before. */
  private need = -1;
  private closed = false;

  constructor(limits: SipLimits = {}) {
    this.opt = resolveOptions({ ...DEFAULT_LIMITS, ...limits, transport: 'stream' });
  }

  /** True after a framing error; push() then returns nothing. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.len - this.pos;
  }

  /** Feeds bytes; returns the events they complete, in order. */
  push(chunk: Uint8Array): FramerEvent[] {
    const events: FramerEvent[] = [];
    if (this.closed || chunk.length === 0) return events;
    this.append(chunk);
    try {
      this.drain(events, false);
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      this.closed = true;
      this.buf = Buffer.alloc(0);
      this.len = this.pos = this.scan = 0;
      events.push({ type: 'error', error: e });
    }
    return events;
  }

  /**
   * Resolves a lone CRLF held at the end of the input as a pong. A client waiting for a pong
   * calls this after push(); the framer holds a trailing CRLF because it may be the first half
   * of a CRLFCRLF ping split across reads.
   */
  flush(): FramerEvent[] {
    const events: FramerEvent[] = [];
    if (!this.closed) this.drain(events, true);
    return events;
  }

  private append(chunk: Uint8Array): void {
    const bytes = asBuffer(chunk);
    const held = this.len - this.pos;
    if (held === 0) {
      // Nothing pending: frame straight from the caller's chunk, no copy.
      this.buf = bytes;
      this.len = bytes.length;
      this.pos = this.scan = 0;
      return;
    }
    if (this.buf.length - this.len >= bytes.length && this.buf !== bytes) {
      this.buf.set(bytes, this.len);
      this.len += bytes.length;
      return;
    }
    const next = Buffer.allocUnsafe(Math.max(4096, (held + bytes.length) * 2));
    this.buf.copy(next, 0, this.pos, this.len);
    next.set(bytes, held);
    this.scan -= this.pos;
    this.len = held + bytes.length;
    this.pos = 0;
    this.buf = next;
  }

  private reset(at: number): void {
    this.pos = this.scan = at;
    this.lines = 0;
    this.contentLength = -1;
    this.clText = null;
    this.need = -1;
    if (at >= this.len) {
      this.buf = Buffer.alloc(0);
      this.len = this.pos = this.scan = 0;
    }
  }

  private drain(events: FramerEvent[], flushing: boolean): void {
    const opt = this.opt;
    for (;;) {
      const buf = this.buf;
      const len = this.len;
      let pos = this.pos;
      if (pos >= len) return;
      if (this.need < 0 && this.scan === pos) {
        // Between messages: keep-alives (RFC 5626 §3.5.1) and stray line ends (RFC 3261 §7.5).
        if (buf[pos] === CR) {
          if (len - pos < 2) return;
          if (buf[pos + 1] === LF) {
            if (len - pos < 4 && !flushing) {
              if (len - pos === 2 || buf[pos + 2] === CR) return;
            }
            if (len - pos >= 4 && buf[pos + 2] === CR && buf[pos + 3] === LF) {
              events.push({ type: 'ping' });
              this.reset(pos + 4);
            } else {
              events.push({ type: 'pong' });
              this.reset(pos + 2);
            }
            continue;
          }
        } else if (buf[pos] === LF) {
          this.reset(pos + 1);
          continue;
        }
      }
      if (this.need < 0) {
        // Header section: scan lines from where the last push stopped.
        let p = this.scan;
        for (;;) {
          const nl = buf.indexOf(LF, p);
          if (nl < 0 || nl >= len) {
            if (len - p > opt.maxLineBytes) throw this.fail(SipErrorCode.LINE_TOO_LONG, `line longer than ${opt.maxLineBytes} bytes`, p);
            if (len - pos > opt.maxMessageBytes) throw this.fail(SipErrorCode.MESSAGE_TOO_LARGE, `header section exceeds ${opt.maxMessageBytes} bytes`, p);
            this.scan = p;
            return;
          }
          if (nl - p > opt.maxLineBytes) throw this.fail(SipErrorCode.LINE_TOO_LONG, `line longer than ${opt.maxLineBytes} bytes`, p);
          const le = nl > p && buf[nl - 1] === CR ? nl - 1 : nl;
          if (le === p) {
            this.closeContentLength(p);
            if (this.contentLength < 0) throw this.fail(SipErrorCode.CONTENT_LENGTH_MISSING, 'Content-Length is required on stream transports', p);
            this.need = nl + 1 - pos + this.contentLength;
            if (this.need > opt.maxMessageBytes) throw this.fail(SipErrorCode.MESSAGE_TOO_LARGE, `message of ${this.need} bytes exceeds ${opt.maxMessageBytes}`, p);
            this.scan = nl + 1;
            break;
          }
          if (++this.lines > opt.maxHeaders + 1) throw this.fail(SipErrorCode.TOO_MANY_HEADERS, `more than ${opt.maxHeaders} header lines`, p);
          if (p > pos) this.noteHeaderLine(buf, p, le);
          p = nl + 1;
        }
      }
      if (len - pos < this.need) {
        if (len - pos > opt.maxMessageBytes) throw this.fail(SipErrorCode.MESSAGE_TOO_LARGE, `message exceeds ${opt.maxMessageBytes} bytes`, pos);
        return;
      }
      const end = pos + this.need;
      const bytes = buf.subarray(pos, end);
      try {
        events.push({ type: 'message', message: parseInternal(bytes, opt), bytes });
      } catch (e) {
        if (!(e instanceof SipParseError)) throw e;
        if (e.framing) throw e;
        events.push({ type: 'invalid', error: e, bytes });
      }
      pos = end;
      this.reset(pos);
    }
  }

  /**
   * Follows the header lines for Content-Length: its value (with folded continuation lines,
   * RFC 3261 §7.3.1) is collected until the next header line or the end of the header section.
   */
  private noteHeaderLine(buf: Buffer, p: number, le: number): void {
    const c = buf[p] as number;
    if (c === 0x20 || c === 0x09) {
      if (this.clText !== null) this.clText += ` ${latin1(buf, p, le)}`;
      return;
    }
    this.closeContentLength(p);
    if (c !== 0x43 && c !== 0x63 && c !== 0x4c && c !== 0x6c) return;
    let q = p;
    while (q < le && buf[q] !== 0x3a && buf[q] !== 0x20 && buf[q] !== 0x09) q++;
    if (headerIdFromBytes(buf, p, q) !== H.CONTENT_LENGTH) return;
    while (q < le && buf[q] !== 0x3a) q++;
    this.clText = latin1(buf, q + 1, le);
    this.clLine = p - this.pos;
  }

  /** Reads the Content-Length value collected so far, if any; conflicting values are errors. */
  private closeContentLength(at: number): void {
    const text = this.clText;
    if (text === null) return;
    this.clText = null;
    let s = 0;
    let e = text.length;
    while (s < e && (text.charCodeAt(s) === 0x20 || text.charCodeAt(s) === 0x09)) s++;
    while (e > s && (text.charCodeAt(e - 1) === 0x20 || text.charCodeAt(e - 1) === 0x09)) e--;
    if (e === s || e - s > 15) throw this.fail(SipErrorCode.CONTENT_LENGTH, 'Content-Length is empty or not a number', this.pos + this.clLine);
    let v = 0;
    for (let i = s; i < e; i++) {
      const d = text.charCodeAt(i);
      if (d < 0x30 || d > 0x39) throw this.fail(SipErrorCode.CONTENT_LENGTH, 'Content-Length is negative or not a number', this.pos + this.clLine);
      v = v * 10 + (d - 0x30);
    }
    if (this.contentLength >= 0 && this.contentLength !== v) throw this.fail(SipErrorCode.CONTENT_LENGTH, 'conflicting Content-Length values', at);
    this.contentLength = v;
  }

  private fail(code: SipErrorCode, message: string, at: number): SipParseError {
    return new SipParseError(code, message, { offset: at - this.pos, messageKind: undefined });
  }
}
