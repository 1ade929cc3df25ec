/**
 * Valid SIP that the JSON envelopes cannot carry must still be answered: a request gets a final
 * response through its server transaction (retransmissions get the same one), and a requester
 * whose response does not fit gets a local error envelope — never silence.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { decodeJson, encodeJson, OutMessage, ResponseEnvelope, toBase64 } from '@sipnats/contracts';
import { parseMessage, type SipRequest, type SipResponse } from '@sipnats/sip-codec';
import type { App } from '../src/app.js';
import { testApp, waitFor, type FakeNats } from './helpers.js';

describe('requests and responses that do not fit an envelope are still answered', function () {
  let app: App;
  let nats: FakeNats;
  let peer: Socket;
  let peerPort: number;
  let sipPort: number;
  const got: Buffer[] = [];

  before(async function () {
    ({ app, nats } = testApp({ SIP_LISTEN: 'udp:127.0.0.1:0' }));
    await app.start();
    sipPort = app.listeners.listenerFor('udp', '127.0.0.1')?.info.local.port ?? 0;
    peer = createSocket('udp4');
    peer.on('message', (m) => got.push(m));
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    peerPort = peer.address().port;
  });

  after(async function () {
    peer.close();
    await app.close();
  });

  function options(callId: string, opts: { uri?: string; fromTag?: string } = {}): Buffer {
    return Buffer.from(
      [
        `OPTIONS ${opts.uri ?? 'sip:bob@127.0.0.1'} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-${callId}`,
        'Max-Forwards: 70',
        `From: <sip:alice@example.com>;tag=${opts.fromTag ?? 'f1'}`,
        'To: <sip:bob@example.com>',
        `Call-ID: ${callId}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  }

  async function exchange(data: Buffer, callId: string): Promise<SipResponse[]> {
    const before = got.length;
    peer.send(data, sipPort, '127.0.0.1');
    await waitFor(`a response to ${callId}`, () => got.slice(before).some((m) => m.includes(`Call-ID: ${callId}`)));
    return got.slice(before).map((m) => parseMessage(m) as SipResponse).filter((r) => r.callId === callId);
  }

  it('a From tag over 256 characters gets 400 through the transaction; its retransmission the same; nothing is published', async function () {
    const data = options('long-tag', { fromTag: 't'.repeat(300) });
    const first = await exchange(data, 'long-tag');
    assert.equal(first[0]?.status, 400);
    assert.match(first[0]?.getHeader('Warning') ?? '', /From tag/);
    const again = await exchange(data, 'long-tag');
    assert.equal(again[0]?.status, 400);
    assert.equal(again[0]?.to.tag, first[0]?.to.tag, 'the retransmission got the transaction’s response');
    assert.equal(nats.on('sip.req.').length, 0);
  });

  it('a Request-URI over 4096 characters gets 414 Request-URI Too Long', async function () {
    const res = await exchange(options('long-uri', { uri: `sip:${'u'.repeat(5000)}@127.0.0.1` }), 'long-uri');
    assert.equal(res[0]?.status, 414);
    assert.equal(res[0]?.reason, 'Request-URI Too Long');
    assert.equal(nats.on('sip.req.').length, 0);
  });

  it('a request that fits is still published', async function () {
    const before = nats.on('sip.req.OPTIONS').length;
    peer.send(options('fits'), sipPort, '127.0.0.1');
    await waitFor('the OPTIONS envelope', () => nats.on('sip.req.OPTIONS').length > before);
  });

  it('a final response with a To tag over 256 characters reaches the requester as a local 502 with the reason', async function () {
    const before = got.length;
    const raw = [
      `OPTIONS sip:bob@127.0.0.1:${peerPort} SIP/2.0`,
      'Max-Forwards: 70',
      'From: <sip:alice@example.com>;tag=ua1',
      'To: <sip:bob@example.com>',
      'Call-ID: out-long-tag',
      'CSeq: 7 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    nats.deliver('sip.out.unit-1', encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(raw) }), '_INBOX.long-tag');
    await waitFor('the OPTIONS at the peer', () => got.length > before);
    const req = parseMessage(got[before] as Buffer) as SipRequest;
    const answer = [
      'SIP/2.0 200 OK',
      ...req.getHeaders('Via').map((v) => `Via: ${v}`),
      `From: ${req.from.raw}`,
      `To: <sip:bob@example.com>;tag=${'x'.repeat(300)}`,
      `Call-ID: ${req.callId}`,
      `CSeq: ${req.cseq.seq} OPTIONS`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    peer.send(Buffer.from(answer), sipPort, '127.0.0.1');
    await waitFor('an envelope on the reply subject', () => nats.on('_INBOX.long-tag').length > 0);
    const decoded = decodeJson(ResponseEnvelope, nats.on('_INBOX.long-tag')[0]?.data ?? new Uint8Array());
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.errors.join('; '));
    assert.equal(decoded.value.status, 502);
    assert.equal(decoded.value.callId, 'out-long-tag');
    assert.match(decoded.value.error ?? '', /200 response .*To tag/);
  });
});
