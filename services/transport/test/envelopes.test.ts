/**
 * The envelope builders are serialised without the schema check (encodeJsonTrusted), so this file
 * proves that whatever passes requestEnvelopeFault / responseEnvelopeFault gives a valid envelope,
 * and that local envelopes are valid for any input — checked here with the full compiled schema.
 */
import assert from 'node:assert/strict';
import { encodeJsonTrusted, FLOW_CLOSE_REASONS, FlowEvent, ForwardedMessage, isValid, describeErrors, LIMITS, RequestEnvelope, ResponseEnvelope, toBase64 } from '@sipnats/contracts';
import { parseMessage, type SipRequest, type SipResponse } from '@sipnats/sip-codec';
import type { Flow } from '../src/listeners/flow.js';
import { clip, requestEnvelopeFault, responseEnvelopeFault } from '../src/publish/envelope-limits.js';
import { encodeRequestEnvelope, flowClosedEvent, flowRef, localResponseEnvelope, requestEnvelope, responseEnvelope, withAttempt } from '../src/publish/envelopes.js';
import { wsCloseCause } from '../src/listeners/ws.js';

const LIMITS_PARSE = { maxMessageBytes: 1_048_576, maxHeaders: 4096, maxLineBytes: 65_536, transport: 'datagram' as const };

function flow(remote: { host: string; port: number }, local = { host: '127.0.0.1', port: 5060 }, transport: Flow['transport'] = 'udp'): Flow {
  const info = { index: 0, transport, local, advertised: local };
  const host = remote.host.includes(':') ? `[${remote.host}]` : remote.host;
  return { id: `udp0/${host}:${remote.port}`, transport, listener: info, local, remote, reliable: false, closed: false, send: () => true } as Flow;
}

interface ReqSpec {
  method?: string;
  uri?: string;
  callId?: string;
  seq?: number;
  fromDisplay?: string;
  fromTag?: string;
  toUri?: string;
  toTag?: string;
  branch?: string | undefined;
  via?: string;
}

function request(s: ReqSpec = {}): SipRequest {
  const method = s.method ?? 'OPTIONS';
  const branch = 'branch' in s ? s.branch : 'z9hG4bK-env-1';
  const lines = [
    `${method} ${s.uri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: ${s.via ?? 'SIP/2.0/UDP [2001:db8::1]:5062'}${branch === undefined ? '' : `;branch=${branch}`}`,
    'Max-Forwards: 70',
    `From: ${s.fromDisplay === undefined ? '' : `"${s.fromDisplay}" `}<sip:alice@example.com>;tag=${s.fromTag ?? 'f1'}`,
    `To: <${s.toUri ?? 'sip:bob@example.com'}>${s.toTag === undefined ? '' : `;tag=${s.toTag}`}`,
    `Call-ID: ${s.callId ?? 'env-call@example.com'}`,
    `CSeq: ${s.seq ?? 1} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n')), LIMITS_PARSE) as SipRequest;
}

function response(toTag: string, callId = 'env-call@example.com', seq = 1): SipResponse {
  const lines = [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-env-1',
    'From: <sip:alice@example.com>;tag=f1',
    `To: <sip:bob@example.com>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${seq} OPTIONS`,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n')), LIMITS_PARSE) as SipResponse;
}

function assertValidEnvelope(schema: typeof RequestEnvelope | typeof ResponseEnvelope | typeof ForwardedMessage | typeof FlowEvent, value: unknown, what: string): void {
  assert.ok(isValid(schema, value), `${what}: ${describeErrors(schema, value).join('; ')}`);
}

function buildRequest(req: SipRequest, f: Flow = flow({ host: '2001:db8::1', port: 5062 })): RequestEnvelope {
  const input = { instance: 'unit-1', flow: flowRef('unit-1', f, 'tok.en'), txn: 's1', cancels: undefined, receivedAt: Date.now(), request: req, raw: new Uint8Array([0x4f, 0x50]) };
  const env = requestEnvelope(input);
  // What the inbound path publishes: the same bytes as the object's JSON.
  assert.equal(encodeRequestEnvelope(input).toString('utf8'), Buffer.from(encodeJsonTrusted(RequestEnvelope, env)).toString('utf8'));
  return env;
}

describe('envelope builders: valid by construction (they are encoded without a schema check)', () => {
  const legal: Array<[string, ReqSpec]> = [
    ['plain OPTIONS', {}],
    ['CSeq 2^32-1', { seq: 2 ** 32 - 1 }],
    ['CSeq 0', { seq: 0 }],
    ['RFC 2543 peer without branch', { branch: undefined }],
    ['Request-URI of exactly 4096 characters', { uri: `sip:${'u'.repeat(4096 - 'sip:@example.com'.length)}@example.com` }],
    ['Call-ID of exactly 512 characters', { callId: 'c'.repeat(512) }],
    ['From tag of exactly 256 characters', { fromTag: 't'.repeat(256) }],
    ['To tag of exactly 256 characters', { toTag: 'T'.repeat(256) }],
    ['display name of 1024 characters', { fromDisplay: 'd'.repeat(1024) }],
    ['non-ASCII display name', { fromDisplay: 'Héllo ☎ 電話' }],
    ['branch of exactly 512 characters', { branch: `z9hG4bK${'b'.repeat(505)}` }],
    ['method of 256 token characters', { method: `X${"!%*_+`'~.-".repeat(25)}ABCDE` }],
    ['RFC 4475 method', { method: "!interesting-Method0123456789_*+`.%indeed'~" }],
  ];
  for (const [name, spec] of legal) {
    it(`request envelope: ${name}`, function () {
      const req = request(spec);
      assert.equal(requestEnvelopeFault(req), undefined);
      assertValidEnvelope(RequestEnvelope, buildRequest(req), name);
    });
  }

  it('the encoded request envelope equals JSON.stringify of the object: escapes, optional fields, CANCEL, attempt', function () {
    const specs: ReqSpec[] = [
      { fromDisplay: 'say \\"hi\\" \\\\ back' },
      { fromDisplay: 'Héllo ☎ 電話 \u{1F600}' },
      { callId: 'a"b\\c' },
      { uri: 'sip:%22x%22@example.com;p=1' },
      { toTag: 'T', fromTag: 'f', branch: undefined },
    ];
    const raw = new Uint8Array(Buffer.from('INVITE sip:x SIP/2.0\r\n\r\n\u00ff', 'latin1'));
    for (const spec of specs) {
      const req = request(spec);
      for (const [txn, cancels] of [['s1', undefined], [undefined, undefined], ['s2', 's1']] as const) {
        const input = { instance: 'unit-1', flow: flowRef('unit-1', flow({ host: '::1', port: 5060 }), 'tok'), txn, cancels, receivedAt: 1_700_000_000_123, request: req, raw };
        const env = requestEnvelope(input);
        const bytes = encodeRequestEnvelope(input);
        assert.equal(bytes.toString('utf8'), JSON.stringify(env));
        assert.deepEqual(JSON.parse(bytes.toString('utf8')), env);
        assert.equal(withAttempt(bytes, 7).toString('utf8'), JSON.stringify({ ...env, attempt: 7 }));
      }
    }
  });

  it('request envelope on IPv4, IPv6 and IPv4-mapped flows', function () {
    for (const remote of [{ host: '192.0.2.1', port: 1 }, { host: '::1', port: 65535 }, { host: '::ffff:192.0.2.1', port: 5060 }]) {
      assertValidEnvelope(RequestEnvelope, buildRequest(request(), flow(remote, { host: '::', port: 5060 })), remote.host);
    }
  });

  it('response envelope with the longest legal values, and the local ones with any input', function () {
    const res = response('T'.repeat(256), 'c'.repeat(512), 2 ** 32 - 1);
    assert.equal(responseEnvelopeFault(res), undefined);
    assertValidEnvelope(ResponseEnvelope, responseEnvelope({ instance: 'unit-1', txn: 'c1', response: res, raw: new Uint8Array(10), flow: flowRef('unit-1', flow({ host: '::1', port: 5060 })) }), 'wire response');
    const huge = request({ callId: 'c'.repeat(600) });
    const local = localResponseEnvelope('unit-1', 'none', huge, 503, 'R'.repeat(2000), { error: 'e'.repeat(5000), timeout: true });
    assertValidEnvelope(ResponseEnvelope, local, 'local response with long Call-ID, reason and error');
    assert.equal(local.callId.length, LIMITS.id);
  });

  it('flow closed event: every reason, IPv6 flows, any detail (clipped, one line), none', function () {
    const ws = { ...flow({ host: '2001:db8::7', port: 53211 }, { host: '::', port: 8080 }, 'ws'), id: 'ws1-0a1b2c3d-2c', reliable: true } as Flow;
    for (const reason of FLOW_CLOSE_REASONS) {
      const ev = flowClosedEvent('unit-1', ws, reason, `socket error: ${'x'.repeat(3000)}\r\nnext line`, Date.now());
      assertValidEnvelope(FlowEvent, ev, reason);
      assert.equal(ev.detail?.length, LIMITS.text);
      assert.ok(!/[\r\n]/.test(ev.detail ?? ''));
      assert.deepEqual(ev.flow, { instance: 'unit-1', transport: 'ws', local: '[::]:8080', remote: '[2001:db8::7]:53211', id: 'ws1-0a1b2c3d-2c' });
    }
    const bare = flowClosedEvent('unit-1', ws, 'peer', '', 0);
    assertValidEnvelope(FlowEvent, bare, 'no detail');
    assert.equal('detail' in bare, false);
  });

  it('forwarded message of a 1 MiB datagram', function () {
    const fwd = { v: 1 as const, from: 'unit-1', flow: flowRef('unit-1', flow({ host: '::1', port: 5060 })), receivedAt: Date.now(), raw: toBase64(new Uint8Array(1_048_576)) };
    assertValidEnvelope(ForwardedMessage, fwd, 'forwarded');
  });
});

describe('envelope limits: what does not fit is named, with the status to answer', function () {
  const over: Array<[string, ReqSpec, number, RegExp]> = [
    ['Request-URI over 4096', { uri: `sip:${'u'.repeat(4100)}@example.com` }, 414, /Request-URI/],
    ['Call-ID over 512', { callId: 'c'.repeat(513) }, 400, /Call-ID/],
    ['From tag over 256', { fromTag: 't'.repeat(257) }, 400, /From tag/],
    ['To tag over 256', { toTag: 'T'.repeat(257) }, 400, /To tag/],
    ['To URI over 4096', { toUri: `sip:${'u'.repeat(4100)}@example.com` }, 400, /To URI/],
    ['display name over 1024', { fromDisplay: 'd'.repeat(1025) }, 400, /From display name/],
    ['branch over 512', { branch: `z9hG4bK${'b'.repeat(506)}` }, 400, /branch/],
    ['method over 256', { method: 'M'.repeat(257) }, 400, /method/],
  ];
  for (const [name, spec, status, detail] of over) {
    it(`${name} → ${status}`, function () {
      const req = request(spec);
      const fault = requestEnvelopeFault(req);
      assert.equal(fault?.status, status);
      assert.match(fault?.detail ?? '', detail);
      assert.equal(isValid(RequestEnvelope, buildRequest(req)), false, 'the schema agrees that it does not fit');
    });
  }

  it('a response with a To tag over 256 or a Call-ID over 512 does not fit', function () {
    assert.match(responseEnvelopeFault(response('T'.repeat(257)))?.detail ?? '', /To tag/);
    assert.match(responseEnvelopeFault(response('t', 'c'.repeat(513)))?.detail ?? '', /Call-ID/);
  });

  it('clip keeps short values and cuts long ones', function () {
    assert.equal(clip('abc', 5), 'abc');
    assert.equal(clip('abcdef', 3), 'abc');
  });
});

describe('WebSocket close codes → flow close reasons (RFC 6455 §7.4.1)', function () {
  it('normal, going away and no code are the peer; too big, protocol and bad data are our limits; 1006 and the rest errors', function () {
    assert.deepEqual(wsCloseCause(1000), { reason: 'peer', detail: 'websocket closed (1000)' });
    assert.equal(wsCloseCause(1001).reason, 'peer');
    assert.equal(wsCloseCause(1005).reason, 'peer');
    assert.equal(wsCloseCause(1009).reason, 'limit');
    assert.equal(wsCloseCause(1002).reason, 'limit');
    assert.equal(wsCloseCause(1007).reason, 'limit');
    assert.equal(wsCloseCause(1006).reason, 'error');
    assert.equal(wsCloseCause(1011).reason, 'error');
    assert.equal(wsCloseCause(4000).reason, 'error');
  });
});
