import assert from 'node:assert/strict';
import { MemoryCallStore } from '../src/store/call-store.js';
import { ORPHAN_AFTER_MS, REMOVAL_CHUNK, RemovalBook } from '../src/runtime/removals.js';

const T0 = 1_700_000_000_000;

describe('removal lists: ended calls listed once a second per instance', () => {
  it('a second of ended calls is one write (chunked), dropped once every call was removed and the second is over', async () => {
    const store = new MemoryCallStore();
    const book = new RemovalBook({ instance: 'ua-1', store, maxCalls: 10_000 });
    const n = REMOVAL_CHUNK + 5;
    for (let i = 0; i < n; i++) book.note(`c${i}`, T0 + 500);
    await book.flush(T0);
    const refs = await store.removalLists(Number.MAX_SAFE_INTEGER, 10);
    assert.deepEqual(refs.map((r) => [r.instance, r.chunk]).sort(), [['ua-1', 0], ['ua-1', 1]]);
    assert.equal((await store.readRemovals({ slot: T0 / 1000, instance: 'ua-1', chunk: 1 }))?.length, 5);
    // More calls of the same second: only the chunk that grew is written again.
    book.note('late', T0 + 900);
    await book.flush(T0 + 100);
    assert.equal((await store.readRemovals({ slot: T0 / 1000, instance: 'ua-1', chunk: 1 }))?.length, 6);
    // All removed but one: the list stays; the last one removed and the second over: it goes.
    for (let i = 0; i < n; i++) book.done(`c${i}`);
    await book.flush(T0 + 2000);
    assert.equal(store.removalListCount, 2);
    book.done('late');
    await book.flush(T0 + 2000);
    assert.equal(store.removalListCount, 0);
    assert.equal(book.pending, 0);
  });

  it('a call noted twice counts once; beyond the bound calls are not tracked and counted', async () => {
    const store = new MemoryCallStore();
    let untracked = 0;
    const book = new RemovalBook({ instance: 'ua-1', store, maxCalls: 2, onUntracked: () => untracked++ });
    book.note('a', T0);
    book.note('a', T0);
    book.note('b', T0);
    book.note('c', T0);
    assert.equal(book.pending, 2);
    assert.equal(untracked, 1);
  });

  it('a list whose calls were not removed in time is left to the orphan sweep (still in KV, no longer tracked)', async () => {
    const store = new MemoryCallStore();
    const book = new RemovalBook({ instance: 'ua-1', store, maxCalls: 100 });
    book.note('stuck', T0);
    await book.flush(T0);
    assert.ok(book.tracks(T0 / 1000));
    await book.flush(T0 + ORPHAN_AFTER_MS + 2000);
    assert.equal(book.tracks(T0 / 1000), false);
    assert.equal(book.pending, 0);
    assert.equal(store.removalListCount, 1);
  });
});
