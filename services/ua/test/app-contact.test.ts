import assert from 'node:assert/strict';
import { fromBase64 } from '@sipnats/contracts';
import { digestAlgorithms } from '../src/app.js';
import { requestWithoutOwnContact, responseWithoutOwnContact } from '../src/handlers/contact.js';
import { envelope, harness } from './app-harness.js';
import { invite, req, SDP_ANSWER, type Dlg } from './app-sip.js';

describe('ua app: our Contact is left to the transport (its advertised address)', () => {
  it('180, 200 to INVITE and our re-INVITE carry no Contact of ours; the transport adds its advertised one', async () => {
    const h = harness();
    const d: Dlg = { callId: 'c-contact', fromTag: 'a1' };
    await h.send(envelope(invite(d)));
    const [offer] = h.callEvents();
    assert.ok(offer);
    await h.command('ring', { v: 1, call: offer.call, action: 'ring' });
    await h.command('answer', { v: 1, call: offer.call, action: 'answer', sdp: SDP_ANSWER });
    const [ringing, ok] = h.responses();
    assert.equal(ringing?.msg.status, 180);
    assert.equal(ok?.msg.status, 200);
    assert.equal(ringing?.msg.hasHeader('Contact'), false);
    assert.equal(ok?.msg.hasHeader('Contact'), false);
    d.toTag = ok?.msg.to.tag;
    await h.send(envelope(req('ACK', d, 1), { txn: null }));
    assert.equal((await h.command('update', { v: 1, call: offer.call, action: 'update', sdp: SDP_ANSWER })).ok, true);
    const reinvite = h.messaging
      .take('sip.out.t1')
      .map((p) => JSON.parse(Buffer.from(p.data).toString()) as { kind: string; raw: string })
      .filter((o) => o.kind === 'request')
      .map((o) => Buffer.from(fromBase64(o.raw)).toString())
      .find((text) => text.startsWith('INVITE '));
    assert.ok(reinvite);
    assert.doesNotMatch(reinvite, /\r\nContact:/i);
  });

  it('keeps every other Contact: other values, other methods, 3xx/4xx responses', () => {
    const target = 'sip:sipnats@127.0.0.1:5060';
    const spec = { status: 200, reason: 'OK', headers: [['Contact', `<${target}>`], ['Contact', '<sip:other@h>']] as const };
    assert.deepEqual(responseWithoutOwnContact(spec, 'INVITE', target).headers, [['Contact', '<sip:other@h>']]);
    assert.equal(responseWithoutOwnContact(spec, 'OPTIONS', target), spec);
    assert.equal(responseWithoutOwnContact({ ...spec, status: 302 }, 'INVITE', target).headers.length, 2);
    const request = { method: 'BYE', requestUri: 'sip:a@h', headers: [['Contact', `<${target}>`]] as const };
    assert.equal(requestWithoutOwnContact(request, target), request);
    assert.deepEqual(requestWithoutOwnContact({ ...request, method: 'UPDATE' }, target).headers, []);
  });

  it('SIPNATS_DIGEST_ALGORITHMS: canonical names in the given order, duplicates dropped', () => {
    assert.deepEqual(digestAlgorithms(['md5', 'SHA-256', 'MD5']), ['MD5', 'SHA-256']);
  });
});
