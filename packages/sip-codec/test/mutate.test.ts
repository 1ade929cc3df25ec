import assert from 'node:assert/strict';
import {
  COMPACT_FORMS, SipErrorCode, SipParseError, createRequest, createResponse, parseMessage, reasonPhrase, serializeMessage, type SipRequest,
} from '../src/index.js';

const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKaaa;rport, SIP/2.0/TCP p.example.com;branch=z9hG4bKbbb',
  'Max-Forwards: 70',
  'f: "Al" <sip:al@example.com>;tag=1',
  't: <sip:bob@example.com>',
  'i: c1@example.com',
  'CSeq: 1 INVITE',
  'Record-Route: <sip:p.example.com;lr>',
  'X-Custom:   keep   this  ',
  'Content-Length: 4',
  '',
  'abcd',
].join('\r\n');

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('sip-codec: mutations re-serialize to exact bytes', () => {
  it('received/rport on the top Via; other lines byte-identical', () => {
    const m = parseMessage(Buffer.from(INVITE));
    m.setTopViaParams({ received: '198.51.100.7', rport: 40000 });
    assert.equal(
      text(serializeMessage(m)),
      INVITE.replace(
        'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKaaa;rport, SIP',
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKaaa;rport=40000;received=198.51.100.7, SIP',
      ),
    );
    assert.equal(m.topVia.rport, 40000);
  });

  it('prepend a Via, then remove it again; remove the top of a comma list', () => {
    const m = parseMessage(Buffer.from(INVITE));
    m.prependVia({ transport: 'udp', host: '2001:db8::1', port: 5060, branch: 'z9hG4bKnew', params: { rport: null } });
    assert.ok(text(serializeMessage(m)).startsWith('INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKnew;rport\r\nv: '));
    assert.equal(m.via.length, 3);
    m.removeTopVia();
    assert.equal(text(serializeMessage(m)), INVITE);
    m.removeTopVia();
    assert.ok(text(serializeMessage(m)).includes('\r\nVia: SIP/2.0/TCP p.example.com;branch=z9hG4bKbbb\r\nMax-Forwards'));
  });

  it('headers: add, set, remove by any name form; body and Content-Length; Request-URI', () => {
    const m = parseMessage(Buffer.from(INVITE)) as SipRequest;
    m.setHeader('x-custom', 'new');
    m.addHeader('Supported', 'timer');
    assert.equal(m.removeHeader('record-route'), 1);
    m.setBody('hello', 'text/plain');
    m.setRequestUri('sip:carol@example.org');
    assert.equal(
      text(serializeMessage(m)),
      [
        'INVITE sip:carol@example.org SIP/2.0',
        'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKaaa;rport, SIP/2.0/TCP p.example.com;branch=z9hG4bKbbb',
        'Max-Forwards: 70',
        'f: "Al" <sip:al@example.com>;tag=1',
        't: <sip:bob@example.com>',
        'i: c1@example.com',
        'CSeq: 1 INVITE',
        'x-custom: new',
        'Content-Length: 5',
        'Supported: timer',
        'Content-Type: text/plain',
        '',
        'hello',
      ].join('\r\n'),
    );
    assert.deepEqual(m.supported, ['timer']);
  });

  it('refuses header injection through values', () => {
    const m = parseMessage(Buffer.from(INVITE));
    assert.throws(() => m.setHeader('X', 'a\r\nVia: evil'), (e: unknown) => e instanceof SipParseError && e.code === SipErrorCode.INVALID_VALUE);
    assert.throws(() => m.addHeader('Bad Name', 'x'), (e: unknown) => e instanceof SipParseError && e.code === SipErrorCode.INVALID_VALUE);
  });
});

describe('sip-codec: builders (RFC 3261 §8.2.6)', () => {
  it('createResponse copies Via in order, From, To with the new tag, Call-ID, CSeq, Record-Route', () => {
    const req = parseMessage(Buffer.from(INVITE)) as SipRequest;
    const res = createResponse(req, 180, undefined, { toTag: 'xyz', copyRecordRoute: true });
    assert.equal(
      text(serializeMessage(res)),
      [
        'SIP/2.0 180 Ringing',
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKaaa;rport, SIP/2.0/TCP p.example.com;branch=z9hG4bKbbb',
        'From: "Al" <sip:al@example.com>;tag=1',
        'To: <sip:bob@example.com>;tag=xyz',
        'Call-ID: c1@example.com',
        'CSeq: 1 INVITE',
        'Record-Route: <sip:p.example.com;lr>',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    assert.equal(res.to.tag, 'xyz');
    const withBody = createResponse(req, 200, 'OK', { body: 'v=0\r\n', contentType: 'application/sdp' });
    assert.equal(withBody.body.length, 5);
    assert.equal(withBody.contentType, 'application/sdp');
  });

  it('createRequest writes Content-Length and parses back', () => {
    const r = createRequest({
      method: 'OPTIONS',
      uri: 'sip:a@example.com',
      headers: [['Via', 'SIP/2.0/UDP h;branch=z9hG4bK1'], ['From', '<sip:b@example.com>;tag=2'], ['To', '<sip:a@example.com>'], ['Call-ID', 'x'], ['CSeq', '1 OPTIONS'], ['Content-Length', '99']],
      body: 'hi',
    });
    assert.equal(text(serializeMessage(r)), 'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=2\r\nTo: <sip:a@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 2\r\n\r\nhi');
    assert.equal(parseMessage(serializeMessage(r), { transport: 'stream' }).callId, 'x');
  });

  it('reason phrases and compact forms', () => {
    assert.equal(reasonPhrase(481), 'Call/Transaction Does Not Exist');
    assert.equal(reasonPhrase(599), 'Server Error');
    assert.equal(COMPACT_FORMS['x'], 'Session-Expires');
    assert.equal(Object.keys(COMPACT_FORMS).sort().join(''), 'abcdefijklmnorstuvxy');
  });

  it('auth values: Digest params unquoted, token68 kept', () => {
    const m = parseMessage(Buffer.from(INVITE.replace('X-Custom', 'Proxy-Authorization: Digest username="a\\"b", realm="r", nonce="n", uri="sip:x", response="00", qop=auth, nc=00000001\r\nX-Custom')));
    const a = m.proxyAuthorization[0];
    assert.equal(a?.scheme, 'Digest');
    assert.equal(a?.params.get('username'), 'a"b');
    assert.equal(a?.params.get('qop'), 'auth');
  });
});
