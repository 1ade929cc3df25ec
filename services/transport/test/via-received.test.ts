import assert from 'node:assert/strict';
import { parseMessage, serializeMessage, type SipRequest } from '@sipnats/sip-codec';
import { responseDestination, stampTopVia } from '../src/inbound/via-received.js';

function request(via: string): SipRequest {
  const text = [
    'OPTIONS sip:bob@example.com SIP/2.0',
    `Via: ${via}`,
    'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKother',
    'From: <sip:alice@example.com>;tag=1',
    'To: <sip:bob@example.com>',
    'Call-ID: c1',
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const m = parseMessage(Buffer.from(text));
  assert.equal(m.kind, 'request');
  return m as SipRequest;
}

describe('RFC 3581 / RFC 3261 §18.2.1: received and rport on the top Via', function () {
  it('adds received always and fills a bare rport with the source port', function () {
    const req = request('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport');
    stampTopVia(req, { host: '192.0.2.7', port: 40001 });
    const text = Buffer.from(serializeMessage(req)).toString();
    assert.match(text, /Via: SIP\/2\.0\/UDP 10\.0\.0\.1:5060;branch=z9hG4bKabc;rport=40001;received=192\.0\.2\.7|received=192\.0\.2\.7;rport=40001/);
    const again = parseMessage(serializeMessage(req)) as SipRequest;
    assert.equal(again.topVia.received, '192.0.2.7');
    assert.equal(again.topVia.rport, 40001);
    assert.equal(again.via[1]?.received, undefined, 'only the top Via changes');
  });

  it('adds received without rport when the client did not ask for it', function () {
    const req = request('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKabc');
    stampTopVia(req, { host: '2001:db8::5', port: 5070 });
    const again = parseMessage(serializeMessage(req)) as SipRequest;
    assert.equal(again.topVia.received, '2001:db8::5');
    assert.equal(again.topVia.rport, undefined);
  });

  it('responses go to received:rport, else received:sent-by port, else sent-by', function () {
    assert.deepEqual(responseDestination({ host: '10.0.0.1', port: 5070, received: '192.0.2.7', rport: 40001 }), { host: '192.0.2.7', port: 40001 });
    assert.deepEqual(responseDestination({ host: '10.0.0.1', port: 5070, received: '192.0.2.7', rport: undefined }), { host: '192.0.2.7', port: 5070 });
    assert.deepEqual(responseDestination({ host: '[2001:db8::1]', port: undefined, received: undefined, rport: undefined }), { host: '2001:db8::1', port: 5060 });
  });
});
