/**
 * ParseOptions.allowMissingVia: a request a UA core hands to its own transport has no Via yet
 * (RFC 3261 §8.1.1.7); network input without Via is still refused as before.
 */
import assert from 'node:assert/strict';
import { SipErrorCode, SipParseError, parseMessage, serializeMessage, type SipMessage } from '../src/index.js';

const NO_VIA_LINES = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@example.com>;tag=f1',
  'To: <sip:bob@example.com>',
  'Call-ID: nv-1@example.com',
  'CSeq: 7 INVITE',
  'Content-Length: 4',
  '',
  'abcd',
];
const NO_VIA = Buffer.from(NO_VIA_LINES.join('\r\n'), 'latin1');
const WITH_VIA = Buffer.from(
  [NO_VIA_LINES[0], 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKstale;rport', ...NO_VIA_LINES.slice(1)].join('\r\n'),
  'latin1',
);

function parseError(fn: () => unknown): SipParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
  assert.fail('expected a SipParseError');
}

function isMissingVia(e: unknown): boolean {
  return e instanceof SipParseError && e.code === SipErrorCode.MISSING_HEADER && /Via/.test(e.message);
}

describe('sip-codec: ParseOptions.allowMissingVia', () => {
  it('without the option a request without Via is refused with SIP_ERR_MISSING_HEADER and answer 400', () => {
    for (const options of [undefined, {}, { allowMissingVia: false }]) {
      const e = parseError(() => parseMessage(NO_VIA, options));
      assert.equal(e.code, SipErrorCode.MISSING_HEADER);
      assert.equal(e.message, 'missing Via header');
      assert.equal(e.answer, 400);
      assert.equal(e.offset, NO_VIA.indexOf('\r\n\r\n') + 2, 'reported where the header section ends');
    }
  });

  it('with the option the request parses; the other required headers are read as usual', () => {
    const m = parseMessage(NO_VIA, { allowMissingVia: true });
    assert.equal(m.kind, 'request');
    assert.equal(m.kind === 'request' ? m.method : '', 'INVITE');
    assert.deepEqual(m.via, []);
    assert.equal(m.hasHeader('Via'), false);
    assert.equal(m.from.displayName, 'Alice');
    assert.equal(m.from.tag, 'f1');
    assert.equal(m.to.uri.raw, 'sip:bob@example.com');
    assert.equal(m.callId, 'nv-1@example.com');
    assert.deepEqual(m.cseq, { seq: 7, method: 'INVITE' });
    assert.equal(Buffer.from(m.body).toString('latin1'), 'abcd');
    assert.deepEqual(serializeMessage(m), NO_VIA, 'an unchanged message serializes to its input');
  });

  it('topVia, setTopViaParams and removeTopVia of a request without Via throw SipParseError(SIP_ERR_MISSING_HEADER)', () => {
    const m = parseMessage(NO_VIA, { allowMissingVia: true });
    assert.throws(() => m.topVia, isMissingVia);
    assert.throws(() => m.topVia, isMissingVia, 'and again on a second read (nothing cached)');
    assert.throws(() => m.setTopViaParams({ received: '192.0.2.9' }), isMissingVia);
    assert.throws(() => m.removeTopVia(), isMissingVia);
  });

  it('the top Via of the previous message is not taken for a request without Via (eager state is per message)', () => {
    const withVia = parseMessage(WITH_VIA);
    const without = parseMessage(NO_VIA, { allowMissingVia: true });
    assert.throws(() => without.topVia, isMissingVia);
    assert.equal(withVia.topVia.branch, 'z9hG4bKstale');
    const again = parseMessage(WITH_VIA, { allowMissingVia: true });
    assert.equal(again.topVia.branch, 'z9hG4bKstale', 'a request with Via reads it through the fast path as always');
    assert.equal(again.topVia.rport, true);
  });

  it('prependVia puts the first Via right after the request line; the result parses without the option', () => {
    const m = parseMessage(NO_VIA, { allowMissingVia: true });
    m.prependVia({ transport: 'UDP', host: '203.0.113.5', port: 5080, branch: 'z9hG4bKfirst', params: { rport: null } });
    assert.equal(m.topVia.branch, 'z9hG4bKfirst');
    assert.equal(m.via.length, 1);
    const out = serializeMessage(m);
    const lines = Buffer.from(out).toString('latin1').split('\r\n');
    assert.equal(lines[1], 'Via: SIP/2.0/UDP 203.0.113.5:5080;branch=z9hG4bKfirst;rport');
    assert.deepEqual(lines.slice(2), NO_VIA_LINES.slice(1));
    const back = parseMessage(out);
    assert.equal(back.topVia.host, '203.0.113.5');
    assert.equal(back.callId, 'nv-1@example.com');
  });

  it('the option relaxes nothing else: responses still need a Via; other missing or malformed headers are refused', () => {
    const response = Buffer.from(['SIP/2.0 200 OK', ...NO_VIA_LINES.slice(2)].join('\r\n'), 'latin1');
    const r = parseError(() => parseMessage(response, { allowMissingVia: true }));
    assert.equal(r.code, SipErrorCode.MISSING_HEADER);
    assert.equal(r.message, 'missing Via header');
    assert.equal(r.answer, 'drop');
    const noFrom = Buffer.from(NO_VIA_LINES.filter((l) => !l.startsWith('From:')).join('\r\n'), 'latin1');
    assert.equal(parseError(() => parseMessage(noFrom, { allowMissingVia: true })).message, 'missing From header');
    const badVia = Buffer.from(WITH_VIA.toString('latin1').replace('SIP/2.0/UDP 192.0.2.1:5060', 'SIP/2.0 192.0.2.1:5060'), 'latin1');
    assert.equal(parseError(() => parseMessage(badVia, { allowMissingVia: true })).code, SipErrorCode.VIA);
  });

  it('a compact `v:` header counts as a Via with or without the option', () => {
    const compact = Buffer.from(WITH_VIA.toString('latin1').replace('Via:', 'v:'), 'latin1');
    for (const options of [undefined, { allowMissingVia: true }]) {
      const m: SipMessage = parseMessage(compact, options);
      assert.equal(m.topVia.branch, 'z9hG4bKstale');
    }
  });
});
