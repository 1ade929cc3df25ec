import assert from 'node:assert/strict';
import { SipErrorCode, SipParseError, StreamFramer, parseMessage, type FramerEvent } from '../src/index.js';
import { corpusFile } from './corpus.js';

const msgA = corpusFile('rfc4475', 'sdp01.dat');
const msgB = corpusFile('rfc4475', 'unreason.dat');
const msgC = corpusFile('rfc5118/wire', 'mult-ip-in-header.dat');
const PING = Buffer.from('\r\n\r\n');
const PONG = Buffer.from('\r\n');
const stream = Buffer.concat([msgA, PING, msgB, PONG, msgC, PING]);

function summary(events: FramerEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'message') return `message ${e.message.callId} ${e.bytes.length}`;
    if (e.type === 'invalid' || e.type === 'error') return `${e.type} ${e.error.code}`;
    return e.type;
  });
}

function feed(chunks: Buffer[]): string[] {
  const f = new StreamFramer();
  const out: FramerEvent[] = [];
  for (const c of chunks) out.push(...f.push(c));
  out.push(...f.flush());
  return summary(out);
}

const expected = [
  `message ${parseMessage(msgA).callId} ${msgA.length}`,
  'ping',
  `message ${parseMessage(msgB).callId} ${msgB.length}`,
  'pong',
  `message ${parseMessage(msgC).callId} ${msgC.length}`,
  'ping',
];

describe('sip-codec: StreamFramer', () => {
  it('frames back-to-back messages with keep-alives between them (RFC 5626 §3.5.1)', () => {
    assert.deepEqual(feed([stream]), expected);
  });

  it('gives the same events fed byte by byte', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
    assert.deepEqual(feed(chunks), expected);
  });

  it('gives the same events split at every offset', () => {
    for (let i = 1; i < stream.length; i++) {
      assert.deepEqual(feed([stream.subarray(0, i), stream.subarray(i)]), expected, `split at ${i}`);
    }
  });

  it('holds a trailing lone CRLF until more data or flush() says it is a pong', () => {
    const f = new StreamFramer();
    assert.deepEqual(f.push(PONG), []);
    assert.deepEqual(summary(f.flush()), ['pong']);
  });

  it('emitted message bytes stay intact after later pushes', () => {
    const f = new StreamFramer();
    const first = f.push(Buffer.concat([msgA, msgB.subarray(0, 10)]));
    const a = first[0];
    assert.ok(a?.type === 'message');
    const copy = Buffer.from(a.bytes);
    f.push(msgB.subarray(10));
    assert.ok(Buffer.from(a.bytes).equals(copy));
    assert.ok(copy.equals(msgA));
  });

  it('a framed message with invalid content is reported and the stream goes on', () => {
    const bad = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(feed([bad, msgA]), [`invalid ${SipErrorCode.MISSING_HEADER}`, expected[0]]);
  });

  it('framing errors close the stream: missing, negative and conflicting Content-Length', () => {
    assert.deepEqual(feed([corpusFile('rfc4475', 'inv2543.dat'), msgA]), [`error ${SipErrorCode.CONTENT_LENGTH_MISSING}`]);
    assert.deepEqual(feed([corpusFile('rfc4475', 'ncl.dat')]), [`error ${SipErrorCode.CONTENT_LENGTH}`]);
    assert.deepEqual(feed([corpusFile('rfc4475', 'mcl01.dat')]), [`error ${SipErrorCode.CONTENT_LENGTH}`]);
  });

  it('limits: a line that never ends, too many headers, an oversized message', () => {
    const f1 = new StreamFramer({ maxLineBytes: 1000 });
    const ev1: FramerEvent[] = [];
    ev1.push(...f1.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\nX: ')));
    for (let i = 0; i < 100 && !f1.isClosed; i++) ev1.push(...f1.push(Buffer.alloc(100, 0x61)));
    assert.deepEqual(summary(ev1), [`error ${SipErrorCode.LINE_TOO_LONG}`]);

    const many = Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${'a: b\r\n'.repeat(10000)}\r\n`);
    assert.deepEqual(feed([many]), [`error ${SipErrorCode.TOO_MANY_HEADERS}`]);

    const big = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n\r\n');
    assert.deepEqual(feed([big]), [`error ${SipErrorCode.MESSAGE_TOO_LARGE}`]);
  });
});

describe('sip-codec: datagram limits', () => {
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof SipParseError);
      return e.code;
    }
    return 'none';
  };
  it('a 64 KB datagram of garbage is refused with START_LINE / LINE_TOO_LONG', () => {
    let x = 12345;
    const junk = Buffer.alloc(65536);
    for (let i = 0; i < junk.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      junk[i] = x >>> 24;
    }
    assert.ok([SipErrorCode.START_LINE, SipErrorCode.LINE_TOO_LONG, SipErrorCode.HEADER_SYNTAX].includes(code(() => parseMessage(junk)) as never));
    assert.equal(code(() => parseMessage(Buffer.alloc(65536, 0x41))), SipErrorCode.LINE_TOO_LONG);
    assert.equal(code(() => parseMessage(Buffer.alloc(70000, 0x41))), SipErrorCode.MESSAGE_TOO_LARGE);
  });
  it('a header that never ends and 10,000 tiny headers are refused with their codes', () => {
    assert.equal(code(() => parseMessage(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: ${'y'.repeat(9000)}`))), SipErrorCode.LINE_TOO_LONG);
    assert.equal(code(() => parseMessage(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: yyy`))), SipErrorCode.HEADER_UNTERMINATED);
    assert.equal(code(() => parseMessage(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${'a:b\r\n'.repeat(10000)}\r\n`))), SipErrorCode.TOO_MANY_HEADERS);
    assert.equal(code(() => parseMessage(Buffer.from('\r\n\r\n'))), SipErrorCode.EMPTY);
  });
});
