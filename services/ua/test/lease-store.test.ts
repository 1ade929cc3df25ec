import assert from 'node:assert/strict';
import { holdLease, isLease, MemoryLeaseStore } from '../src/store/lease-store.js';

describe('leases', () => {
  it('one owner at a time: taken, renewed, refused to others until it lapses, then taken over', async () => {
    const store = new MemoryLeaseStore();
    assert.equal(await holdLease(store, 'trunk.a', 'ua-1', 1000, 30_000), true);
    assert.equal(await holdLease(store, 'trunk.a', 'ua-2', 2000, 30_000), false);
    assert.equal(await holdLease(store, 'trunk.a', 'ua-1', 10_000, 30_000), true);
    assert.equal(await holdLease(store, 'trunk.a', 'ua-2', 39_000, 30_000), false);
    assert.equal(await holdLease(store, 'trunk.a', 'ua-2', 40_001, 30_000), true);
    assert.equal(await holdLease(store, 'trunk.a', 'ua-1', 40_002, 30_000), false);
    assert.deepEqual((await store.get('trunk.a'))?.value, { owner: 'ua-2', until: 70_001 });
  });

  it('isLease accepts only { owner, until }', () => {
    assert.equal(isLease({ owner: 'a', until: 1 }), true);
    assert.equal(isLease({ owner: 'a' }), false);
    assert.equal(isLease({ owner: 'a', until: 1, call: 'x' }), false);
    assert.equal(isLease(null), false);
  });
});
