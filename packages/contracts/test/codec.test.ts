import assert from 'node:assert/strict';
import { fromBase64, toBase64 } from '../src/base64.js';
import { assertValid, decodeJson, encodeJson, encodeJsonTrusted, isValid } from '../src/codec.js';
import { CONTRACT_ERROR, ContractError } from '../src/errors.js';
import {
  CALL_ACTIONS,
  CALL_COMMAND_SCHEMAS,
  CallCommand,
  CallEvent,
  ChannelEvent,
  CommandReply,
  FlowEvent,
  type FlowRef,
  ForwardedMessage,
  OutMessage,
  RegEvent,
  RequestEnvelope,
  ResponseEnvelope,
} from '../src/index.js';

const INVITE = 'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n\r\n';
const flow: FlowRef = { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '[::1]:5062', id: 'udp0/[::1]:5062' };

const request: RequestEnvelope = {
  v: 1,
  instance: 't1',
  flow,
  txn: 'z9hG4bK1:INVITE',
  receivedAt: 1_700_000_000_000,
  method: 'INVITE',
  uri: 'sip:bob@example.com',
  callId: 'abc@10.0.0.1',
  cseq: { seq: 1, method: 'INVITE' },
  from: { uri: 'sip:alice@example.com', display: 'Alice', tag: 'a1' },
  to: { uri: 'sip:bob@example.com' },
  branch: 'z9hG4bK1',
  raw: toBase64(INVITE),
};

describe('contracts: JSON codec', () => {
  it('round-trips a request envelope and its raw bytes', () => {
    const bytes = encodeJson(RequestEnvelope, request);
    const r = decodeJson(RequestEnvelope, bytes);
    assert.ok(r.ok);
    assert.deepEqual(r.value, request);
    assert.equal(fromBase64(r.value.raw).toString('utf8'), INVITE);
  });

  it('accepts a valid instance of every payload', () => {
    const samples: Array<[string, unknown, unknown]> = [
      ['ResponseEnvelope', ResponseEnvelope, { v: 1, instance: 't1', txn: 'c1', status: 408, reason: 'Request Timeout', callId: 'x', cseq: { seq: 2, method: 'BYE' }, timeout: true }],
      ['OutMessage', OutMessage, { v: 1, kind: 'request', raw: 'QUJD', target: { transport: 'tcp', host: '::1', port: 5060 } }],
      ['OutMessage 2xx', OutMessage, { v: 1, kind: 'response', raw: 'QUJD', txn: 't', flow, retransmit2xx: true }],
      ['ForwardedMessage', ForwardedMessage, { v: 1, from: 't2', flow, receivedAt: 1, raw: 'QQ==' }],
      [
        'CallEvent',
        CallEvent,
        { v: 1, event: 'dtmf', call: 'c1', sipCallId: 'x', direction: 'inbound', from: { uri: 'sip:a@b' }, to: { uri: 'sip:c@d' }, at: 5, instance: 'u1', dtmf: { digit: '#', duration: 160 }, headers: { 'X-Foo': 'bar' } },
      ],
      ['RegEvent', RegEvent, { v: 1, event: 'registered', aor: 'sip:alice@example.com', contact: 'sip:alice@10.0.0.1', expires: 3600, at: 1, instance: 'u1', flow }],
      ['CommandReply', CommandReply, { v: 1, ok: false, call: 'c1', code: 'NOT_FOUND', error: 'no such call' }],
      ['ChannelEvent', ChannelEvent, { v: 1, event: 'hangup', call: 'c1', node: 'fs-1', uuid: '6f1c7c1e-7d1b-4a4e-9f55-0c3c1d2e3f40', direction: 'inbound', at: 5, cause: 'NORMAL_CLEARING' }],
      ['ChannelEvent dtmf', ChannelEvent, { v: 1, event: 'dtmf', call: 'c1', node: 'fs-1', uuid: 'u', direction: 'outbound', at: 5, dtmf: { digit: '5', duration: 200 } }],
      ['FlowEvent', FlowEvent, { v: 1, event: 'closed', flow: { ...flow, transport: 'ws', id: 'ws1-0a1b2c3d-1f' }, reason: 'error', detail: 'websocket closed (1006)', at: 1 }],
    ];
    for (const [name, schema, value] of samples) {
      const r = decodeJson(schema as typeof OutMessage, JSON.stringify(value));
      assert.ok(r.ok, `${name}: ${r.ok ? '' : r.errors.join('; ')}`);
    }
  });

  it('channel events: a cause is a Q.850 name, nothing beyond the schema', () => {
    const base = { v: 1, event: 'hangup', call: 'c1', node: 'fs-1', uuid: 'u', direction: 'inbound', at: 5 };
    assert.ok(isValid(ChannelEvent, base));
    assert.ok(!isValid(ChannelEvent, { ...base, cause: 'normal clearing' }), 'cause with spaces');
    assert.ok(!isValid(ChannelEvent, { ...base, event: 'ringing' }), 'unknown event');
    assert.ok(!isValid(ChannelEvent, { ...base, direction: 'sideways' }), 'unknown direction');
    assert.ok(!isValid(ChannelEvent, { ...base, sdp: 'v=0' }), 'extra member');
  });

  it('a flow event names one of the close reasons and carries the flow', () => {
    const ev = { v: 1, event: 'closed', flow: { ...flow, transport: 'tcp', id: 'tcp0-0a1b2c3d-1' }, reason: 'peer', at: 1 };
    assert.ok(isValid(FlowEvent, ev));
    assert.ok(!isValid(FlowEvent, { ...ev, reason: 'gone' }));
    assert.ok(!isValid(FlowEvent, { ...ev, event: 'opened' }));
    assert.ok(!isValid(FlowEvent, { ...ev, detail: 'x'.repeat(1025) }));
    const { flow: _flow, ...noFlow } = ev;
    assert.ok(!isValid(FlowEvent, noFlow));
  });

  it('discriminates call commands by action and validates each action', () => {
    const answer = { v: 1, call: 'c1', action: 'answer', sdp: 'v=0\r\n' };
    assert.ok(isValid(CallCommand, answer));
    assert.ok(isValid(CALL_COMMAND_SCHEMAS.answer, answer));
    assert.ok(!isValid(CALL_COMMAND_SCHEMAS.ring, answer));
    assert.ok(!isValid(CallCommand, { v: 1, call: 'c1', action: 'answer' }), 'answer without sdp');
    assert.ok(!isValid(CallCommand, { v: 1, call: 'c1', action: 'reject', status: 200 }), 'reject with 2xx');
    assert.ok(!isValid(CallCommand, { v: 1, call: 'c1', action: 'ring', status: 181 }), 'ring with 181');
    assert.ok(isValid(CallCommand, { v: 1, call: 'c1', action: 'originate', from: 'sip:a@b', to: 'sip:c@d', credentials: { username: 'u', password: 'p' } }));
    assert.ok(!isValid(CallCommand, { v: 1, call: 'c1', action: 'dance' }));
    assert.deepEqual(Object.keys(CALL_COMMAND_SCHEMAS).sort(), [...CALL_ACTIONS].sort());
  });

  it('reports readable errors with paths for invalid payloads', () => {
    const r = decodeJson(RequestEnvelope, JSON.stringify({ ...request, v: 2, extra: 1, flow: { ...flow, transport: 'sctp' } }));
    assert.ok(!r.ok);
    const text = r.errors.join('\n');
    assert.match(text, /^\/v: /m);
    assert.match(text, /^\/extra: /m);
    assert.match(text, /^\/flow\/transport: /m);
    assert.ok(r.errors.length <= 10);
  });

  it('never throws on garbage input', () => {
    for (const input of ['', 'nul', '{"v":1', '[]', 'null', '"x"', new Uint8Array([0xff, 0xfe])]) {
      const r = decodeJson(CallEvent, input);
      assert.ok(!r.ok);
      assert.ok(r.errors.length > 0 && r.errors.every((e) => e.startsWith('/')));
    }
  });

  it('refuses to encode an invalid value, with problems listed', () => {
    assert.throws(
      () => encodeJson(CommandReply, { v: 1, ok: true, code: 'NOPE' } as unknown as CommandReply),
      (e: unknown) => e instanceof ContractError && e.code === CONTRACT_ERROR.invalid && e.problems.some((p) => p.startsWith('/code')),
    );
    assert.throws(() => assertValid(OutMessage, { v: 1, kind: 'response' }), /invalid OutMessage: \/raw/);
  });

  it('rejects flow addresses that are not ip:port', () => {
    for (const local of ['localhost:5060', '::1:5060', '127.0.0.1', '[::1]']) {
      assert.ok(!isValid(ForwardedMessage, { v: 1, from: 't', flow: { ...flow, local }, receivedAt: 1, raw: '' }), local);
    }
    assert.ok(isValid(ForwardedMessage, { v: 1, from: 't', flow: { ...flow, local: '[fe80::1%eth0]:5060' }, receivedAt: 1, raw: '' }));
  });

  it('header maps accept only SIP token names and single-line values, at most 32', () => {
    const base = { v: 1, call: 'c1', action: 'answer', sdp: 'v=0' };
    assert.ok(isValid(CallCommand, { ...base, headers: { 'X-Tenant': 'acme' } }));
    assert.ok(!isValid(CallCommand, { ...base, headers: { 'bad name': 'x' } }), 'space in name');
    assert.ok(!isValid(CallCommand, { ...base, headers: { 'X-A': 'x\r\nVia: injected' } }), 'CRLF in value');
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`X-H${i}`, 'v']));
    assert.ok(!isValid(CallCommand, { ...base, headers: many }), '33 headers');
  });

  it('base64 decode is linear: 6 MB of text decodes (a backtracking regex overflowed its stack here)', () => {
    const bytes = Buffer.alloc(4_500_000, 0x41);
    bytes[4_499_999] = 0xff;
    const text = toBase64(bytes);
    assert.ok(text.length >= 6_000_000);
    assert.ok(fromBase64(text).equals(bytes));
    assert.throws(() => fromBase64(`${text.slice(0, -4)}QR==`), (e: unknown) => e instanceof ContractError && e.code === CONTRACT_ERROR.base64);
  });

  it('CSeq numbers up to 2^32-1 fit the envelopes, like the codec accepts (RFC 3261 §8.1.1.5)', () => {
    const big = { ...request, cseq: { seq: 4_294_967_295, method: 'INVITE' } };
    const r = decodeJson(RequestEnvelope, encodeJson(RequestEnvelope, big));
    assert.ok(r.ok);
    assert.equal(r.value.cseq.seq, 4_294_967_295);
    assert.ok(!isValid(RequestEnvelope, { ...request, cseq: { seq: 4_294_967_296, method: 'INVITE' } }));
  });

  it('base64 helpers: strict decode, exact bytes', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255, 13, 10]);
    assert.deepEqual(new Uint8Array(fromBase64(toBase64(bytes))), bytes);
    assert.equal(toBase64(new Uint8Array([1, 2, 3, 4]).subarray(1, 3)), toBase64(new Uint8Array([2, 3])));
    for (const bad of ['QQ=', 'Q===', 'QQ==QQ==', 'Q!==', 'QUJD\n', 'QR==', 'QUI=QUJD', '-_8=', 'QU JD', 'QUJ\u00e9']) {
      assert.throws(() => fromBase64(bad), (e: unknown) => e instanceof ContractError && e.code === CONTRACT_ERROR.base64, bad);
    }
  });
});

describe('contracts: trusted encoding (no schema check)', () => {
  it('gives the same bytes as encodeJson for a valid envelope, and decodes back', () => {
    const trusted = encodeJsonTrusted(RequestEnvelope, request);
    assert.deepEqual(Buffer.from(trusted), Buffer.from(encodeJson(RequestEnvelope, request)));
    const r = decodeJson(RequestEnvelope, trusted);
    assert.ok(r.ok);
    assert.deepEqual(r.value, request);
  });

  it('does not check: an invalid value is serialised as it is (the caller owns validity)', () => {
    const bad = { ...request, callId: 'x'.repeat(600) };
    assert.throws(() => encodeJson(RequestEnvelope, bad), ContractError);
    const bytes = encodeJsonTrusted(RequestEnvelope, bad);
    assert.equal(decodeJson(RequestEnvelope, bytes).ok, false);
  });

  it('encodes non-ASCII text as UTF-8', () => {
    const env = { ...request, from: { uri: 'sip:h%C3%A9llo@example.com', display: 'Héllo ☎' } };
    assert.equal(JSON.parse(Buffer.from(encodeJsonTrusted(RequestEnvelope, env)).toString('utf8')).from.display, 'Héllo ☎');
  });
});
