import assert from 'node:assert/strict';
import { BoundedCache, CallCache } from '../src/store/call-cache.js';
import { CALL_ENTRY_VERSION, type CallEntry } from '../src/store/call-store.js';
import { nextMarkAt } from '../src/handlers/call-runner.js';

function entry(call: string, o: { removeAt?: number; markAt?: number } = {}): CallEntry {
  return {
    v: CALL_ENTRY_VERSION,
    dialog: { call, callId: `cid-${call}`, remoteTag: 'rt' } as CallEntry['dialog'],
    flow: { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', id: 'u' },
    inviteInstance: 't1',
    peerInstance: 't1',
    timers: {},
    ...o,
  };
}

describe('call cache: bounded memory of entries, ended calls and the dialog index', () => {
  it('BoundedCache drops the least recently written key when full', () => {
    const c = new BoundedCache<number>(2);
    c.set('a', 1);
    c.set('b', 2);
    c.set('a', 3); // rewritten: now the youngest
    c.set('c', 4);
    assert.equal(c.get('b'), undefined);
    assert.equal(c.get('a'), 3);
    assert.equal(c.get('c'), 4);
    assert.equal(c.size, 2);
    const none = new BoundedCache<number>(0);
    none.set('x', 1);
    assert.equal(none.size, 0);
  });

  it('keeps the entry of a call that is up, and only a removal ticket once it ended', () => {
    const c = new CallCache({ entries: 10, tickets: 10, index: 10 });
    c.remember('k', { value: entry('k'), revision: 4 });
    assert.equal(c.entry('k')?.revision, 4);
    assert.equal(c.ticket('k'), undefined);
    c.remember('k', { value: entry('k', { removeAt: 5000, markAt: 5000 }), revision: 5 });
    assert.equal(c.entry('k'), undefined);
    assert.deepEqual(c.ticket('k'), { call: 'k', callId: 'cid-k', remoteTag: 'rt', revision: 5, removeAt: 5000, markAt: 5000 });
    c.forget('k');
    assert.equal(c.ticket('k'), undefined);
  });

  it('timer mark placement: set when first due, moved earlier, kept when later, moved to the removal when the call ends', () => {
    assert.equal(nextMarkAt(undefined, 30_000, false), 30_000);
    assert.equal(nextMarkAt(30_000, 10_000, false), 10_000);
    assert.equal(nextMarkAt(30_000, 32_000, false), 30_000);
    assert.equal(nextMarkAt(30_000, 62_000, true), 62_000);
    assert.equal(nextMarkAt(30_000, undefined, false), undefined);
  });
});
