/**
 * Requests handed over on `sip.out` / `sip.out.<instance>` come from ua or a controller without
 * Via: the transport's Via is their first (RFC 3261 §8.1.1.7, §18.1.1). The codec parses them
 * with `allowMissingVia`; responses without Via are still refused.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { decodeJson, encodeJson, OutMessage, ResponseEnvelope, fromBase64, toBase64 } from '@sipnats/contracts';
import { parseMessage, type SipRequest } from '@sipnats/sip-codec';
import type { App } from '../src/app.js';
import { testApp, waitFor, type FakeNats } from './helpers.js';

describe('outbound requests without Via (sip.out)', function () {
  let app: App;
  let nats: FakeNats;
  let peer: Socket;
  let peerPort: number;
  const got: Buffer[] = [];

  before(async function () {
    ({ app, nats } = testApp({ SIP_LISTEN: 'udp:127.0.0.1:0' }));
    await app.start();
    peer = createSocket('udp4');
    peer.on('message', (m) => got.push(m));
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    peerPort = peer.address().port;
  });

  after(async function () {
    peer.close();
    await app.close();
  });

  function lines(callId: string, o: { uri?: string; via?: string } = {}): string[] {
    return [
      `OPTIONS ${o.uri ?? `sip:bob@127.0.0.1:${peerPort}`} SIP/2.0`,
      ...(o.via === undefined ? [] : [`Via: ${o.via}`]),
      'Max-Forwards: 70',
      'From: <sip:alice@example.com>;tag=f1',
      'To: <sip:bob@example.com>',
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ];
  }

  function deliver(subject: string, raw: string, kind: 'request' | 'response' = 'request', extra: Partial<OutMessage> = {}, reply?: string): void {
    nats.deliver(subject, encodeJson(OutMessage, { v: 1, kind, raw: toBase64(raw), ...extra }), reply);
  }

  async function arrived(callId: string): Promise<string> {
    await waitFor(`${callId} at the peer`, () => got.some((m) => m.includes(`Call-ID: ${callId}\r\n`)));
    return (got.find((m) => m.includes(`Call-ID: ${callId}\r\n`)) as Buffer).toString('latin1');
  }

  async function dropped(reason: string): Promise<number> {
    const m = await app.context.metrics.dropped.get();
    return m.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
  }

  for (const subject of ['sip.out', 'sip.out.unit-1']) {
    it(`a request without Via on ${subject} leaves with our Via as its only one; every other line as handed over`, async function () {
      const callId = `nv-${subject}`;
      const input = lines(callId);
      deliver(subject, input.join('\r\n'), 'request', {}, '_INBOX.nv');
      const text = await arrived(callId);
      const req = parseMessage(Buffer.from(text, 'latin1')) as SipRequest;
      assert.equal(req.via.length, 1, text);
      assert.ok(req.topVia.branch?.startsWith('z9hG4bK-sn1.'), `our routing branch: ${req.topVia.branch}`);
      assert.equal(req.topVia.rport, true);
      const sent = text.split('\r\n');
      assert.match(sent[1] ?? '', /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:[0-9]+;branch=z9hG4bK-sn1\.[^;]+;rport$/);
      assert.deepEqual([sent[0], ...sent.slice(2)], input);
    });
  }

  it('a request that already has a Via gets ours on top of it', async function () {
    const callId = 'nv-has-via';
    deliver('sip.out', lines(callId, { via: 'SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-theirs' }).join('\r\n'), 'request', {}, '_INBOX.nv');
    const req = parseMessage(Buffer.from(await arrived(callId), 'latin1')) as SipRequest;
    assert.equal(req.via.length, 2);
    assert.ok(req.via[0]?.branch?.startsWith('z9hG4bK-sn1.'), `ours on top: ${req.via[0]?.raw}`);
    assert.equal(req.via[1]?.raw, 'SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-theirs');
  });

  it('a request without Via that cannot be sent gets a local 503 on its reply subject', async function () {
    const before = nats.on('_INBOX.nv-503').length;
    deliver('sip.out', lines('nv-503', { uri: `sip:bob@127.0.0.1:${peerPort};transport=tcp` }).join('\r\n'), 'request', {}, '_INBOX.nv-503');
    await waitFor('the 503', () => nats.on('_INBOX.nv-503').length > before);
    const env = decodeJson(ResponseEnvelope, (nats.on('_INBOX.nv-503')[before] as { data: Uint8Array }).data);
    assert.ok(env.ok);
    assert.equal(env.value.status, 503);
    assert.equal(env.value.callId, 'nv-503');
    assert.deepEqual(env.value.cseq, { seq: 1, method: 'OPTIONS' });
    assert.match(env.value.error ?? '', /no tcp listener/);
  });

  it('a request without Via for a flow of another instance is handed to it unchanged, still without Via', async function () {
    const raw = lines('nv-fwd').join('\r\n');
    const flow = { instance: 'unit-2', transport: 'udp' as const, local: '127.0.0.1:5060', remote: `127.0.0.1:${peerPort}`, id: 'udp0/x' };
    deliver('sip.out', raw, 'request', { flow }, '_INBOX.nv-fwd');
    await waitFor('the hand-over', () => nats.on('sip.out.unit-2').length > 0);
    const handed = nats.on('sip.out.unit-2')[0];
    assert.equal(handed?.reply, '_INBOX.nv-fwd');
    const out = decodeJson(OutMessage, handed?.data ?? new Uint8Array());
    assert.ok(out.ok);
    assert.equal(Buffer.from(fromBase64(out.value.raw)).toString('latin1'), raw);
  });

  it('a response without Via, or a request without Via that lacks From, is dropped as a bad OutMessage (handled synchronously)', async function () {
    const before = await dropped('bad-out-message');
    deliver('sip.out.unit-1', ['SIP/2.0 200 OK', ...lines('nv-res').slice(2)].join('\r\n'), 'response');
    deliver('sip.out', lines('nv-nofrom').filter((l) => !l.startsWith('From:')).join('\r\n'), 'request', {}, '_INBOX.nv-nofrom');
    assert.equal(await dropped('bad-out-message'), before + 2);
    assert.equal(await dropped('out-internal-error'), 0);
    assert.equal(nats.on('_INBOX.nv-nofrom').length, 0, 'an unparseable OutMessage has no reply');
  });
});
