import assert from 'node:assert/strict';
import { SipErrorCode, SipParseError, parseMessage, serializeMessage, type SipMessage } from '../src/index.js';
import { corpusFile } from './corpus.js';

interface Valid {
  file: string;
  start: string;
  uri?: string;
  branch: string | undefined;
  callId: string;
  cseq: [number, string];
  body: number;
}

/** Valid messages of RFC 4475 (§3.1.1, §3.3, §3.4) and what they must parse to. */
const VALID_4475: Valid[] = [
  { file: 'wsinv.dat', start: 'INVITE', uri: 'sip:vivekg@chair-dnrc.example.com;unknownparam', branch: '390skdjuw', callId: 'wsinv.ndaksdj@192.0.2.1', cseq: [9, 'INVITE'], body: 150 },
  { file: 'intmeth.dat', start: '!interesting-Method0123456789_*+`.%indeed\'~', uri: 'sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn\'t-it)@example.com', branch: 'z9hG4bK-.!%66*_+`\'~', callId: 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{', cseq: [139122385, '!interesting-Method0123456789_*+`.%indeed\'~'], body: 0 },
  { file: 'esc01.dat', start: 'INVITE', uri: 'sip:sips%3Auser%40example.com@example.net', branch: 'z9hG4bKkdjuw', callId: 'esc01.239409asdfakjkn23onasd0-3234', cseq: [234234, 'INVITE'], body: 150 },
  { file: 'escnull.dat', start: 'REGISTER', uri: 'sip:example.com', branch: 'z9hG4bKkdjuw', callId: 'escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd', cseq: [14398234, 'REGISTER'], body: 0 },
  { file: 'esc02.dat', start: 'RE%47IST%45R', uri: 'sip:registrar.example.com', branch: 'z9hG4bK209%fzsnel234', callId: 'esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf', cseq: [29344, 'RE%47IST%45R'], body: 0 },
  { file: 'lwsdisp.dat', start: 'OPTIONS', uri: 'sip:user@example.com', branch: 'z9hG4bKkdjuw', callId: 'lwsdisp.1234abcd@funky.example.com', cseq: [60, 'OPTIONS'], body: 0 },
  { file: 'longreq.dat', start: 'INVITE', uri: 'sip:user@example.com', branch: undefined, callId: `longreq.one${'really'.repeat(20)}longcallid`, cseq: [3882340, 'INVITE'], body: 150 },
  { file: 'dblreq.dat', start: 'REGISTER', uri: 'sip:example.com', branch: 'z9hG4bKkdjuw23492', callId: 'dblreq.0ha0isndaksdj99sdfafnl3lk233412', cseq: [8, 'REGISTER'], body: 0 },
  { file: 'semiuri.dat', start: 'OPTIONS', uri: 'sip:user;par=u%40example.net@example.com', branch: 'z9hG4bKkdjuw', callId: 'semiuri.0ha0isndaksdj', cseq: [8, 'OPTIONS'], body: 0 },
  { file: 'transports.dat', start: 'OPTIONS', uri: 'sip:user@example.com', branch: 'z9hG4bKkdjuw', callId: 'transports.kijh4akdnaqjkwendsasfdj', cseq: [60, 'OPTIONS'], body: 0 },
  { file: 'mpart01.dat', start: 'MESSAGE', uri: 'sip:kumiko@example.org', branch: 'z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-', callId: '3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..', cseq: [1, 'MESSAGE'], body: 553 },
  { file: 'unreason.dat', start: '200', branch: 'z9hG4bK1324923', callId: 'unreason.1234ksdfak3j2erwedfsASdf', cseq: [35, 'INVITE'], body: 154 },
  { file: 'noreason.dat', start: '100', branch: 'z9hG4bK2398ndaoe', callId: 'noreason.asndj203insdf99223ndf', cseq: [35, 'INVITE'], body: 0 },
  { file: 'badbranch.dat', start: 'OPTIONS', uri: 'sip:user@example.com', branch: 'z9hG4bK', callId: 'badbranch.sadonfo23i420jv0as0derf3j3n', cseq: [8, 'OPTIONS'], body: 0 },
  { file: 'unkscm.dat', start: 'OPTIONS', uri: 'nobodyKnowsThisScheme:totallyopaquecontent', branch: 'z9hG4bKkdjuw39234', callId: 'unkscm.nasdfasser0q239nwsdfasdkl34', cseq: [3923423, 'OPTIONS'], body: 0 },
  { file: 'novelsc.dat', start: 'OPTIONS', uri: 'soap.beep://192.0.2.103:3002', branch: 'z9hG4bKkdjuw39234', callId: 'novelsc.asdfasser0q239nwsdfasdkl34', cseq: [3923423, 'OPTIONS'], body: 0 },
  { file: 'unksm2.dat', start: 'REGISTER', uri: 'sip:example.com', branch: 'z9hG4bKkdjuw', callId: 'unksm2.daksdj@hyphenated-host.example.com', cseq: [234902, 'REGISTER'], body: 0 },
  { file: 'bext01.dat', start: 'OPTIONS', uri: 'sip:user@example.com', branch: 'z9hG4bKkdjuw', callId: 'bext01.0ha0isndaksdj', cseq: [8, 'OPTIONS'], body: 0 },
  { file: 'invut.dat', start: 'INVITE', uri: 'sip:user@example.com', branch: 'z9hG4bKkdjuw', callId: 'invut.0ha0isndaksdjadsfij34n23d', cseq: [235448, 'INVITE'], body: 40 },
  { file: 'regaut01.dat', start: 'REGISTER', uri: 'sip:example.com', branch: 'z9hG4bKkdjuw', callId: 'regaut01.0ha0isndaksdj', cseq: [9338, 'REGISTER'], body: 0 },
  { file: 'bcast.dat', start: '200', branch: 'z9hG4bK1324923', callId: 'bcast.0384840201234ksdfak3j2erwedfsASdf', cseq: [35, 'INVITE'], body: 154 },
  { file: 'zeromf.dat', start: 'OPTIONS', uri: 'sip:user@example.com', branch: 'z9hG4bKkdjuw2349i', callId: 'zeromf.jfasdlfnm2o2l43r5u0asdfas', cseq: [39234321, 'OPTIONS'], body: 0 },
  { file: 'cparam01.dat', start: 'REGISTER', uri: 'sip:example.com', branch: 'z9hG4bKkdjuw', callId: 'cparam01.70710@saturn.example.com', cseq: [2, 'REGISTER'], body: 0 },
  { file: 'cparam02.dat', start: 'REGISTER', uri: 'sip:example.com', branch: 'z9hG4bKkdjuw', callId: 'cparam02.70710@saturn.example.com', cseq: [3, 'REGISTER'], body: 0 },
  { file: 'regescrt.dat', start: 'REGISTER', uri: 'sip:example.com', branch: 'z9hG4bKkdjuw', callId: 'regescrt.k345asrl3fdbv@192.0.2.1', cseq: [14398234, 'REGISTER'], body: 0 },
  { file: 'sdp01.dat', start: 'INVITE', uri: 'sip:user@example.com', branch: 'z9hG4bKkdjuw', callId: 'sdp01.ndaksdj9342dasdd', cseq: [8, 'INVITE'], body: 150 },
  { file: 'inv2543.dat', start: 'INVITE', uri: 'sip:UserB@example.com', branch: undefined, callId: 'inv2543.1717@ift.client.example.com', cseq: [56, 'INVITE'], body: 105 },
  // §3.1.2 messages a liberal parser may accept; accepted here as the RFC allows.
  { file: 'lwsstart.dat', start: 'INVITE', uri: 'sip:user@example.com', branch: 'z9hG4bKkdjuw3923', callId: 'lwsstart.dfknq234oi243099adsdfnawe3@example.com', cseq: [1893884, 'INVITE'], body: 150 },
  { file: 'trws.dat', start: 'OPTIONS', uri: 'sip:remote-target@example.com', branch: 'z9hG4bK299342093', callId: 'trws.oicu34958239neffasdhr2345r', cseq: [238923, 'OPTIONS'], body: 0 },
  { file: 'escruri.dat', start: 'INVITE', uri: 'sip:user@example.com?Route=%3Csip:example.com%3E', branch: 'z9hG4bKkdjuw', callId: 'escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5', cseq: [149209342, 'INVITE'], body: 150 },
  { file: 'baddate.dat', start: 'INVITE', uri: 'sip:user@example.com', branch: 'z9hG4bKkdjuw', callId: 'baddate.239423mnsadf3j23lj42--sedfnm234', cseq: [1392934, 'INVITE'], body: 150 },
];

/** Invalid messages of RFC 4475 and the code parseMessage rejects them with. */
const INVALID_4475: Array<[file: string, code: string, answer: 400 | 505 | 'drop']> = [
  ['badinv01.dat', SipErrorCode.VIA, 400],
  ['clerr.dat', SipErrorCode.BODY_TRUNCATED, 400],
  ['ncl.dat', SipErrorCode.CONTENT_LENGTH, 'drop'],
  ['scalar02.dat', SipErrorCode.CSEQ, 400],
  ['scalarlg.dat', SipErrorCode.CSEQ, 'drop'],
  ['quotbal.dat', SipErrorCode.NAME_ADDR, 400],
  ['ltgtruri.dat', SipErrorCode.REQUEST_URI, 400],
  ['lwsruri.dat', SipErrorCode.REQUEST_URI, 400],
  ['badaspec.dat', SipErrorCode.NAME_ADDR, 400],
  ['baddn.dat', SipErrorCode.NAME_ADDR, 400],
  ['badvers.dat', SipErrorCode.VERSION, 505],
  ['mismatch01.dat', SipErrorCode.CSEQ_METHOD, 400],
  ['mismatch02.dat', SipErrorCode.CSEQ_METHOD, 400],
  ['bigcode.dat', SipErrorCode.STATUS_CODE, 'drop'],
  ['insuf.dat', SipErrorCode.MISSING_HEADER, 400],
  ['multi01.dat', SipErrorCode.DUPLICATE_HEADER, 400],
  ['mcl01.dat', SipErrorCode.CONTENT_LENGTH, 'drop'],
  ['test.dat', SipErrorCode.START_LINE, 'drop'],
];

function startOf(m: SipMessage): string {
  return m.kind === 'request' ? m.method : String(m.status);
}

function rejects(bytes: Uint8Array, code: string): SipParseError {
  try {
    parseMessage(bytes);
  } catch (e) {
    assert.ok(e instanceof SipParseError, `expected SipParseError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('sip-codec: RFC 4475 torture messages', () => {
  for (const v of VALID_4475) {
    it(`accepts ${v.file} with the expected start line, branch, Call-ID, CSeq and body`, () => {
      const m = parseMessage(corpusFile('rfc4475', v.file));
      assert.equal(startOf(m), v.start);
      if (m.kind === 'request') assert.equal(m.uri, v.uri);
      assert.equal(m.topVia.branch, v.branch);
      assert.equal(m.callId, v.callId);
      assert.deepEqual([m.cseq.seq, m.cseq.method], v.cseq);
      assert.equal(m.body.length, v.body);
    });
  }

  for (const v of VALID_4475.filter((x) => x.file !== 'dblreq.dat')) {
    it(`serializes ${v.file} unchanged to its exact bytes`, () => {
      const bytes = corpusFile('rfc4475', v.file);
      assert.ok(Buffer.from(serializeMessage(parseMessage(bytes))).equals(bytes));
    });
  }

  for (const [file, code, answer] of INVALID_4475) {
    it(`rejects ${file} with ${code} (answer ${answer})`, () => {
      const e = rejects(corpusFile('rfc4475', file), code);
      assert.equal(e.answer, answer);
      assert.ok(e.offset >= 0);
    });
  }

  it('dblreq (§3.1.1.8): the trailing INVITE is not a body and serialization stops before it', () => {
    const bytes = corpusFile('rfc4475', 'dblreq.dat');
    const m = parseMessage(bytes);
    assert.equal(m.body.length, 0);
    const out = Buffer.from(serializeMessage(m));
    assert.ok(bytes.subarray(0, out.length).equals(out));
    assert.ok(bytes.subarray(out.length).toString('latin1').includes('INVITE sip:joe@example.com'));
  });

  it('esc02 (§3.1.1.5): the method is not REGISTER and there are 2 Contacts, not 3', () => {
    const m = parseMessage(corpusFile('rfc4475', 'esc02.dat'));
    assert.equal(m.kind, 'request');
    if (m.kind === 'request') assert.notEqual(m.method, 'REGISTER');
    assert.equal(m.contacts.length, 2);
    assert.equal(m.getHeader('C%6Fntact'), '<sip:alias2@host2.example.com>');
  });

  it('wsinv (§3.1.1.1): folding, compact forms, odd spacing and quoted display names', () => {
    const m = parseMessage(corpusFile('rfc4475', 'wsinv.dat'));
    assert.equal(m.to.tag, '1918181833n');
    assert.equal(m.from.tag, '98asjd8');
    assert.equal(m.from.displayName, 'J Rosenberg \\"');
    assert.equal(m.maxForwards, 68);
    assert.deepEqual(m.via.map((v) => [v.transport, v.host, v.branch]), [
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    assert.equal(m.getHeader('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(m.getHeader('s'), '');
    assert.equal(m.contacts[0]?.displayName, 'Quoted string ""');
    assert.equal(m.contacts[0]?.q, 0.33);
    assert.equal(m.contacts[0]?.params.get('newparam'), 'newvalue');
    assert.equal(m.route[0]?.uri.params.get('lr'), null);
  });

  it('escnull and esc01: %-escapes are kept raw and decoded on request', async () => {
    const { decodePercent } = await import('../src/index.js');
    const m = parseMessage(corpusFile('rfc4475', 'escnull.dat'));
    assert.deepEqual(m.contacts.map((c) => c.uri.user), ['%00', '%00%00']);
    assert.equal(decodePercent('%00%00').length, 2);
    const e = parseMessage(corpusFile('rfc4475', 'esc01.dat'));
    assert.equal(e.to.uri.user, '%75se%72');
    assert.equal(decodePercent(e.to.uri.user ?? ''), 'user');
    assert.equal(e.contacts[0]?.uri.params.get('%6c%72'), null);
  });

  it('semiuri, escruri, regescrt: user parts with ; and escaped URI headers are never headers', () => {
    const s = parseMessage(corpusFile('rfc4475', 'semiuri.dat'));
    assert.ok(s.kind === 'request');
    assert.equal(s.requestUri.user, 'user;par=u%40example.net');
    assert.equal(s.requestUri.host, 'example.com');
    const e = parseMessage(corpusFile('rfc4475', 'escruri.dat'));
    assert.ok(e.kind === 'request');
    assert.deepEqual(e.requestUri.headers, [['Route', '%3Csip:example.com%3E']]);
    assert.equal(e.hasHeader('Route'), false);
    const r = parseMessage(corpusFile('rfc4475', 'regescrt.dat'));
    assert.deepEqual(r.contacts[0]?.uri.headers, [['Route', '%3Csip:sip.example.com%3E']]);
  });

  it('intmeth: unusual but legal characters in method, URI, Call-ID and branch', () => {
    const m = parseMessage(corpusFile('rfc4475', 'intmeth.dat'));
    assert.ok(m.kind === 'request');
    assert.equal(m.requestUri.host, 'example.com');
    assert.equal(m.from.uri.scheme, 'sip');
  });

  it('transports, regaut01, unksm2, bext01, cparam01/02: structured accessors', () => {
    const t = parseMessage(corpusFile('rfc4475', 'transports.dat'));
    assert.deepEqual(t.via.map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    const a = parseMessage(corpusFile('rfc4475', 'regaut01.dat'));
    assert.equal(a.authorization[0]?.scheme, 'NoOneKnowsThisScheme');
    assert.equal(a.authorization[0]?.params.get('opaque-data'), 'here');
    const u = parseMessage(corpusFile('rfc4475', 'unksm2.dat'));
    assert.equal(u.to.uri.scheme, 'isbn');
    assert.equal(u.from.uri.scheme, 'http');
    const b = parseMessage(corpusFile('rfc4475', 'bext01.dat'));
    assert.deepEqual(b.require, ['nothingSupportsThis', 'nothingSupportsThisEither']);
    assert.deepEqual(b.proxyRequire, ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
    const c1 = parseMessage(corpusFile('rfc4475', 'cparam01.dat'));
    assert.equal(c1.contacts[0]?.params.has('unknownparam'), true);
    const c2 = parseMessage(corpusFile('rfc4475', 'cparam02.dat'));
    assert.equal(c2.contacts[0]?.uri.params.has('unknownparam'), true);
  });

  it('regbadct (§3.1.2.13): an addr-spec with ? outside <> is refused when Contact is read', () => {
    const m = parseMessage(corpusFile('rfc4475', 'regbadct.dat'));
    assert.throws(() => m.contacts, (e: unknown) => e instanceof SipParseError && e.code === SipErrorCode.NAME_ADDR);
  });

  it('inv2543 (§3.4.1): no Content-Length over a datagram, the body is the rest', () => {
    const bytes = corpusFile('rfc4475', 'inv2543.dat');
    const m = parseMessage(bytes);
    assert.equal(m.contentLength, undefined);
    assert.equal(m.body.length, 105);
    assert.throws(() => parseMessage(bytes, { transport: 'stream' }), (e: unknown) => e instanceof SipParseError && e.code === SipErrorCode.CONTENT_LENGTH_MISSING);
  });
});

describe('sip-codec: RFC 5118 IPv6 torture messages', () => {
  const ok: Array<[file: string, uriHost: string, port: number | undefined, viaHost: string]> = [
    ['ipv6-good.dat', '[2001:db8::10]', undefined, '[2001:db8::9:1]'],
    ['port-ambiguous.dat', '[2001:db8::10:5070]', undefined, '[2001:db8::9:1]'],
    ['port-unambiguous.dat', '[2001:db8::10]', 5070, '[2001:db8::9:1]'],
    ['via-received-param-with-delim.dat', '[2001:db8::10]', undefined, '[2001:db8::9:1]'],
    ['via-received-param-no-delim.dat', '[2001:db8::10]', undefined, '[2001:db8::9:1]'],
    ['mult-ip-in-header.dat', 'host.example.net', undefined, '[2001:db8::9:1]'],
    ['ipv4-mapped-ipv6.dat', 'example.com', undefined, '[::ffff:192.0.2.10]'],
    ['ipv6-bug-abnf-3-colons.dat', '[2001:db8:::192.0.2.1]', undefined, 'lab1.east.example.com'],
    ['ipv6-correct-abnf-2-colons.dat', '[2001:db8::192.0.2.1]', undefined, 'lab1.east.example.com'],
  ];
  for (const set of ['rfc5118/wire', 'rfc5118'] as const) {
    for (const [file, host, port, viaHost] of ok) {
      it(`${set}: accepts ${file} (${host})`, () => {
        const bytes = corpusFile(set, file);
        const m = parseMessage(bytes);
        assert.ok(m.kind === 'request');
        assert.equal(m.requestUri.host, host);
        assert.equal(m.requestUri.port, port);
        assert.equal(m.topVia.host, viaHost);
        if (file !== 'ipv4-mapped-ipv6.dat' || set === 'rfc5118') assert.ok(Buffer.from(serializeMessage(m)).equals(bytes));
      });
    }
    it(`${set}: ipv6-bad (§4.2) is refused: an IPv6 Request-URI host needs brackets`, () => {
      const m = parseMessage(corpusFile(set, 'ipv6-bad.dat'));
      assert.ok(m.kind === 'request');
      assert.throws(() => m.requestUri, (e: unknown) => e instanceof SipParseError && e.code === SipErrorCode.URI);
    });
  }

  it('received with and without IPv6 delimiters (§4.5), Via list mixing families (§4.7)', () => {
    assert.equal(parseMessage(corpusFile('rfc5118', 'via-received-param-with-delim.dat')).topVia.received, '[2001:db8::9:255]');
    assert.equal(parseMessage(corpusFile('rfc5118', 'via-received-param-no-delim.dat')).topVia.received, '2001:db8::9:255');
    const m = parseMessage(corpusFile('rfc5118', 'mult-ip-in-header.dat'));
    assert.deepEqual(m.via.map((v) => [v.hostKind, v.port]), [['ipv6', 6050], ['ipv4', undefined], ['ipv6', undefined]]);
  });

  it('the archive Content-Length of the SDP examples is larger than their body: refused as truncated', () => {
    // RFC 5118 §4.6/§4.8 archive bytes declare more octets than they carry; the datagram rule
    // (RFC 3261 §18.3, RFC 4475 clerr) applies. With the length corrected they parse.
    for (const [set, file] of [['rfc5118', 'ipv6-in-sdp.dat'], ['rfc5118/wire', 'ipv6-in-sdp.dat'], ['rfc5118', 'mult-ip-in-sdp.dat']] as const) {
      const bytes = corpusFile(set, file);
      rejects(bytes, SipErrorCode.BODY_TRUNCATED);
      const text = bytes.toString('latin1');
      const head = text.indexOf('\n\n') >= 0 && !text.includes('\r\n') ? text.indexOf('\n\n') + 2 : text.indexOf('\r\n\r\n') + 4;
      const fixed = Buffer.from(text.replace(/Content-Length: *\d+/, `Content-Length: ${bytes.length - head}`), 'latin1');
      const m = parseMessage(fixed);
      assert.equal(m.body.length, bytes.length - head);
      assert.equal(m.contacts[0]?.uri.hostKind, 'ipv6');
    }
    assert.equal(parseMessage(corpusFile('rfc5118/wire', 'mult-ip-in-sdp.dat')).body.length, 181);
  });
});
