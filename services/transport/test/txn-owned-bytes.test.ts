import assert from 'node:assert/strict';
import { ownedBytes } from '../src/txn/compact-request.js';
import { NonInviteServerState } from '../src/txn/non-invite-server.js';
import { harness, request, responseTo, UDP } from './txn-harness.test.js';

describe('txn: a final response kept for Timer J/H/L owns its bytes', () => {
  it('ownedBytes copies a view of a larger allocation to an exact-size buffer, and keeps an exact one as is', () => {
    const slab = Buffer.allocUnsafeSlow(8192).fill(0x41);
    const view = slab.subarray(100, 450);
    const own = ownedBytes(view);
    assert.notEqual(own.buffer, slab.buffer);
    assert.equal(own.buffer.byteLength, 350);
    assert.deepEqual(Buffer.from(own), Buffer.from(view));
    const exact = new Uint8Array(16);
    assert.equal(ownedBytes(exact), exact);
  });

  it('§17.2.2 Completed resends the final response even after the buffer it came in was reused', () => {
    const h = harness();
    const r = h.layer.receiveRequest(request({ method: 'BYE', branch: 'z9hG4bK-own', toTag: 'to-1' }), UDP);
    assert.equal(r.kind, 'new');
    if (r.kind !== 'new') return;
    const { res, bytes } = responseTo(r.txn.request, 200);
    // The response arrives as a view into a shared allocation (as Buffer.from(base64) gives).
    const slab = Buffer.alloc(bytes.length + 4096);
    bytes.copy(slab, 2048);
    assert.equal(h.layer.respond(r.txn.id, res, slab.subarray(2048, 2048 + bytes.length)), 'sent');
    assert.equal(r.txn.state, NonInviteServerState.completed);
    slab.fill(0x58); // the shared allocation is reused by someone else
    h.layer.receiveRequest(request({ method: 'BYE', branch: 'z9hG4bK-own', toTag: 'to-1' }), UDP);
    assert.equal(h.sent.at(-1)?.line, 'SIP/2.0 200 Reason');
  });
});
