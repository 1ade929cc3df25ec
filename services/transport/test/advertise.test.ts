import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { encodeJson, OutMessage, toBase64 } from '@sipnats/contracts';
import { parseMessage, type SipRequest } from '@sipnats/sip-codec';
import type { App } from '../src/app.js';
import { advertisedFor, parseAdvertise, parseListenSpec } from '../src/listeners/address.js';
import { testApp, waitFor, type FakeNats } from './helpers.js';

describe('advertised address in the headers the transport writes', function () {
  let app: App;
  let nats: FakeNats;
  let peer: Socket;
  let peerPort: number;
  const got: Buffer[] = [];

  before(async function () {
    ({ app, nats } = testApp({ SIP_LISTEN: 'udp:127.0.0.1:0', SIP_ADVERTISE: 'udp:203.0.113.5:5080' }));
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

  it('parses per-transport and global rules', function () {
    const spec = parseListenSpec('tcp:[::]:5060');
    assert.deepEqual(advertisedFor(parseAdvertise(['udp:198.51.100.1', 'tcp:[2001:db8::1]:15060']), spec, 5060), { host: '2001:db8::1', port: 15060 });
    assert.deepEqual(advertisedFor(parseAdvertise(['sip.example.com']), spec, 5061), { host: 'sip.example.com', port: 5061 });
  });

  it('an INVITE from ua gets Via, Record-Route and Contact with the advertised host:port', async function () {
    const raw = [
      `INVITE sip:bob@127.0.0.1:${peerPort} SIP/2.0`,
      'Max-Forwards: 70',
      'From: <sip:alice@example.com>;tag=f1',
      'To: <sip:bob@example.com>',
      'Call-ID: adv-1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    nats.deliver('sip.out.unit-1', encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(raw) }), '_INBOX.adv');
    await waitFor('INVITE at the peer', () => got.length > 0);
    const req = parseMessage(got[0] as Buffer) as SipRequest;
    assert.equal(req.method, 'INVITE');
    assert.equal(req.via.length, 1);
    assert.equal(req.topVia.host, '203.0.113.5');
    assert.equal(req.topVia.port, 5080);
    assert.equal(req.recordRoute[0]?.uri.host, '203.0.113.5');
    assert.equal(req.recordRoute[0]?.uri.port, 5080);
    assert.ok(req.recordRoute[0]?.uri.params.has('sn-flow'));
    assert.equal(req.contacts[0]?.uri.host, '203.0.113.5');
    assert.equal(req.contacts[0]?.uri.user, 'alice');
  });
});
