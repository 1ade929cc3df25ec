import { ORPHAN_AFTER_MS } from '../src/runtime/removals.js';
import assert from 'node:assert/strict';
import { envelope, harness } from './app-harness.js';
import { invite, req, SDP_ANSWER, type Dlg } from './app-sip.js';

/** Two ua instances over one call store: each remembers what it last read or wrote. */
function pair(env: Record<string, string> = {}): { a: ReturnType<typeof harness>; b: ReturnType<typeof harness> } {
  const a = harness(env);
  const b = harness(env, { calls: a.calls.otherInstance(), clock: a.clock });
  return { a, b };
}

describe('ua app: two instances, remembered entries and removal of ended calls', () => {
  it('a stale remembered entry loses its write and the step runs again on the stored one: ended is published once', async () => {
    const { a, b } = pair();
    const d: Dlg = { callId: 'two-1', fromTag: 'x' };
    await a.send(envelope(invite(d)));
    const [offer] = a.callEvents();
    assert.ok(offer);
    assert.equal((await a.command('answer', { v: 1, call: offer.call, action: 'answer', sdp: SDP_ANSWER })).ok, true);
    d.toTag = a.responses().find((r) => r.msg.status === 200)?.msg.to.tag;
    // b serves the ACK (a remembers the entry from before it) ...
    await b.send(envelope(req('ACK', d, 1), { txn: null }));
    assert.deepEqual(b.callEvents().map((e) => e.event), ['confirmed']);
    // ... and a serves the BYE from its stale memory: its write fails, it reads again.
    await a.send(envelope(req('BYE', d, 2)));
    assert.deepEqual(a.responses().map((r) => r.msg.status), [200]);
    assert.deepEqual(a.callEvents().map((e) => e.event), ['answered', 'ended']);
    // The same BYE again on b, which remembers the confirmed call: on that entry it would end the
    // call a second time; its write fails and the stored (ended) call decides: one answer, no event.
    await b.send(envelope(req('BYE', d, 2)));
    assert.equal(b.responses().length, 1);
    assert.deepEqual(b.callEvents(), []);
    assert.equal((await b.calls.get(offer.call))?.value.dialog.phase, 'ended');
    // A late command on b within the grace period: the stored (ended) call decides.
    const late = await b.command('hangup', { v: 1, call: offer.call, action: 'hangup' });
    assert.equal(late.ok, false);
    assert.ok(late.code === 'BAD_STATE' || late.code === 'CONFLICT');
  });

  it('an ended call of an instance that died is removed by another from its removal list; then requests get 481 and commands NOT_FOUND', async () => {
    const { a, b } = pair();
    a.app.timers.stop(); // a "dies" after listing the call: its local removal timer never fires
    const d: Dlg = { callId: 'two-2', fromTag: 'y' };
    await a.send(envelope(invite(d)));
    const [offer] = a.callEvents();
    assert.ok(offer);
    await a.command('answer', { v: 1, call: offer.call, action: 'answer', sdp: SDP_ANSWER });
    d.toTag = a.responses().find((r) => r.msg.status === 200)?.msg.to.tag;
    await a.send(envelope(req('ACK', d, 1), { txn: null }));
    await a.send(envelope(req('BYE', d, 2)));
    assert.deepEqual(a.responses().map((r) => r.msg.status), [200]);
    assert.equal(a.calls.size, 1);
    assert.equal(a.calls.marks.size, 0, 'no mark: only the removal is due');
    await a.app.removals.flush(a.clock.read());
    assert.equal(a.calls.removalListCount, 1);
    // Within the grace period after the removal time, a's list is a's business.
    a.clock.advance(64 * 500 + ORPHAN_AFTER_MS - 1000);
    await b.app.timers.removeOrphans();
    assert.equal(a.calls.size, 1);
    a.clock.advance(2000);
    // b (which never saw the call) finds a's list and removes the call (entry and index), then the list.
    await b.app.timers.removeOrphans();
    assert.equal(a.calls.size, 0);
    assert.equal(a.calls.removalListCount, 0);
    // a still remembers the index: the lookup through it finds no call, the KV index decides → 481.
    await a.send(envelope(req('BYE', d, 2)));
    assert.deepEqual(a.responses().map((r) => r.msg.status), [481]);
    assert.equal((await a.command('hangup', { v: 1, call: offer.call, action: 'hangup' })).code, 'NOT_FOUND');
  });

  it('the no-answer timer armed on one instance is fired by the other from the stored mark', async () => {
    const { a, b } = pair({ SIPNATS_ANSWER_TIMEOUT: '2s' });
    a.app.timers.stop(); // a "died": its local timer never fires
    await a.send(envelope(invite({ callId: 'two-3', fromTag: 'z' })));
    a.responses();
    a.clock.advance(2500);
    await b.app.timers.sweep();
    await b.idle();
    const finals = [...a.responses(), ...b.responses()].map((r) => r.msg.status);
    assert.deepEqual(finals, [480]);
    assert.deepEqual(b.callEvents().map((e) => [e.event, e.cause]), [['failed', 'NO_ANSWER']]);
  });
});
