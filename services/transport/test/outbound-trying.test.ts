/**
 * A 100 Trying from the TU for an INVITE: the transport sent its own at once (§17.2.1), so the
 * ua's only says that a ua holds the request. It stops the republishing of the INVITE and is not
 * sent to the peer a second time.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { decodeJson, encodeJson, OutMessage, RequestEnvelope, fromBase64, toBase64 } from '@sipnats/contracts';
import { createResponse, parseMessage, serializeMessage } from '@sipnats/sip-codec';
import type { App } from '../src/app.js';
import { testApp, waitFor, type FakeNats } from './helpers.js';

describe('outbound: a 100 Trying from the TU for an INVITE', function () {
  let app: App;
  let nats: FakeNats;
  let peer: Socket;
  const got: string[] = [];

  before(async function () {
    ({ app, nats } = testApp({ SIP_LISTEN: 'udp:127.0.0.1:0' }));
    await app.start();
    peer = createSocket('udp4');
    peer.on('message', (m) => got.push(m.toString('latin1')));
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  });

  after(async function () {
    peer.close();
    await app.close();
  });

  it('stops the republishing and is not sent to the peer again', async function () {
    const port = app.listeners.listeners[0]?.info.local.port as number;
    const local = peer.address().port;
    const invite = [
      `INVITE sip:bob@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-try-1;rport`,
      'Max-Forwards: 70',
      `From: <sip:alice@127.0.0.1:${local}>;tag=a1`,
      `To: <sip:bob@127.0.0.1:${port}>`,
      'Call-ID: trying-1',
      'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${local}>`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    peer.send(invite, port, '127.0.0.1');
    await waitFor('the INVITE published', () => nats.on('sip.req.INVITE').length === 1);
    await waitFor("the transport's own 100", () => got.some((m) => m.startsWith('SIP/2.0 100')));
    const env = decodeJson(RequestEnvelope, nats.on('sip.req.INVITE')[0]?.data ?? new Uint8Array());
    assert.ok(env.ok && env.value.txn !== undefined);
    assert.equal(app.context.republisher?.size, 1, 'tracked for republishing');

    const req = parseMessage(fromBase64(env.value.raw));
    assert.ok(req.kind === 'request');
    const trying = createResponse(req, 100);
    nats.deliver('sip.out.unit-1', encodeJson(OutMessage, { v: 1, kind: 'response', raw: toBase64(serializeMessage(trying)), txn: env.value.txn }));
    assert.equal(app.context.republisher?.size, 0, 'no longer tracked');

    await new Promise((r) => setTimeout(r, 1300)); // past the first republish delay (1 s)
    assert.equal(nats.on('sip.req.INVITE').length, 1, 'not published again');
    assert.equal(got.filter((m) => m.startsWith('SIP/2.0 100')).length, 1, 'one 100 Trying on the wire');
  });
});
