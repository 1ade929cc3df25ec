/**
 * Edge cases found in review: each test fails on the codec as it was before its fix.
 */
import assert from 'node:assert/strict';
import { SipErrorCode, SipParseError, StreamFramer, parseMessage, parseUri, type FramerEvent } from '../src/index.js';

function request(startLine: string, extra = '', body = ''): Buffer {
  return Buffer.from(
    `${startLine}\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n` +
      `Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n${extra}\r\n${body}`,
    'latin1',
  );
}

function parseError(bytes: Buffer): SipParseError {
  try {
    parseMessage(bytes);
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
  assert.fail('expected a SipParseError');
}

function framed(chunks: Buffer[]): FramerEvent[] {
  const f = new StreamFramer();
  const out: FramerEvent[] = [];
  for (const c of chunks) out.push(...f.push(c));
  return out;
}

describe('sip-codec: edge cases', () => {
  it('SIP-Version is case-insensitive in requests as in responses (RFC 3261 §7.1)', () => {
    const m = parseMessage(request('OPTIONS sip:b@example.com sip/2.0'));
    assert.equal(m.kind, 'request');
    assert.equal(m.kind === 'request' ? m.method : '', 'OPTIONS');
    const r = parseMessage(Buffer.from(request('OPTIONS sip:b@example.com SIP/2.0').toString('latin1').replace(/^[^\r]*/, 'Sip/2.0 200 OK')));
    assert.equal(r.kind === 'response' ? r.status : 0, 200);
    const e = parseError(request('OPTIONS sip:b@example.com SIP/2.1'));
    assert.equal(e.code, SipErrorCode.VERSION);
    assert.equal(e.answer, 505);
  });

  it('a CR that does not end a line is refused: 400 for requests, dropped for responses (RFC 3261 §7.3.1)', () => {
    const e = parseError(request('OPTIONS sip:b@example.com SIP/2.0', 'X-Smuggle: a\rInjected: 1\r\n'));
    assert.equal(e.code, SipErrorCode.HEADER_SYNTAX);
    assert.equal(e.answer, 400);
    assert.equal(e.offset, request('OPTIONS sip:b@example.com SIP/2.0').length - 2 + 'X-Smuggle: a'.length);
    const folded = parseError(request('OPTIONS sip:b@example.com SIP/2.0', 'Subject: a\r\n b\rc\r\n'));
    assert.equal(folded.code, SipErrorCode.HEADER_SYNTAX);
    const reason = parseError(Buffer.from(request('OPTIONS sip:b@example.com SIP/2.0').toString('latin1').replace(/^[^\n]*\n/, 'SIP/2.0 200 O\rK\r\n')));
    assert.equal(reason.answer, 'drop');
    // Bare LF line ends stay accepted, and a CR inside the body is the body's business.
    const lf = parseMessage(Buffer.from(request('OPTIONS sip:b@example.com SIP/2.0', 'Content-Length: 3\r\n', 'a\rb').toString('latin1').replace(/\r\n/g, '\n')));
    assert.deepEqual(Buffer.from(lf.body).toString('latin1'), 'a\rb');
  });

  it('the stream framer reads a folded Content-Length like parseMessage does', () => {
    const bytes = request('OPTIONS sip:b@example.com SIP/2.0', 'Content-Length:\r\n   4\r\n', 'abcd');
    assert.equal(parseMessage(bytes, { transport: 'stream' }).body.length, 4);
    for (let cut = 1; cut < bytes.length; cut++) {
      const events = framed([bytes.subarray(0, cut), bytes.subarray(cut), Buffer.from('OPTIONS')]);
      assert.deepEqual(events.map((e) => e.type), ['message'], `split at ${cut}`);
      const first = events[0];
      assert.equal(first?.type === 'message' ? first.bytes.length : -1, bytes.length);
    }
    const conflict = framed([request('OPTIONS sip:b@example.com SIP/2.0', 'Content-Length:\r\n 4\r\nl: 5\r\n', 'abcde')]);
    assert.deepEqual(conflict.map((e) => (e.type === 'error' ? e.error.code : e.type)), [SipErrorCode.CONTENT_LENGTH]);
    const notNumber = framed([request('OPTIONS sip:b@example.com SIP/2.0', 'Content-Length: 4\r\n x\r\n', 'abcd')]);
    assert.deepEqual(notNumber.map((e) => (e.type === 'error' ? e.error.code : e.type)), [SipErrorCode.CONTENT_LENGTH]);
  });

  it('IPv6 references are checked against the RFC 4291 text forms (RFC 5118)', () => {
    for (const good of ['[::]', '[::1]', '[2001:db8::10]', '[1:2:3:4:5:6:7:8]', '[::ffff:192.0.2.1]', '[1:2:3:4:5:6:1.2.3.4]', '[2001:db8:::192.0.2.1]', '[fe80::]']) {
      assert.equal(parseUri(`sip:${good}:5060`).hostKind, 'ipv6', good);
    }
    for (const bad of ['[::::::::::]', '[12345::1]', '[1::2::3]', '[1:2:3:4:5:6:7:8:9]', '[1:2]', '[:1::2]', '[1::2:]', '[2001:db8:::1]', '[::1.2.3]', '[1.2.3.4]', '[1:2:3:4:5:6:7::8]']) {
      assert.throws(() => parseUri(`sip:${bad}`), (e: unknown) => e instanceof SipParseError && e.code === SipErrorCode.URI, bad);
    }
    const via = parseMessage(Buffer.from(request('OPTIONS sip:b@example.com SIP/2.0').toString('latin1').replace('h.example.com', '[1::2::3]'), 'latin1'));
    assert.throws(() => via.topVia, (e: unknown) => e instanceof SipParseError && e.code === SipErrorCode.VIA);
  });
});
