import assert from 'node:assert/strict';
import { BACKGROUND_EVERY, LANE, WorkQueue } from '../src/runtime/work-queue.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

describe('work queue: bounded concurrency, three bounded lanes', () => {
  it('a free slot takes a waiting priority job before earlier normal jobs', async () => {
    const q = new WorkQueue({ concurrency: 1, maxQueue: 10, maxPriorityQueue: 10, onError: () => undefined });
    const order: string[] = [];
    const g = gate();
    assert.equal(q.offer(() => g.promise), true);
    for (const n of ['r1', 'r2']) q.offer(async () => void order.push(n));
    q.offer(async () => void order.push('cmd'), LANE.priority);
    assert.equal(q.waitingIn(LANE.normal), 2);
    assert.equal(q.waitingIn(LANE.priority), 1);
    g.open();
    await q.idle();
    assert.deepEqual(order, ['cmd', 'r1', 'r2']);
  });

  it(`background jobs (call timers) yield to requests but get one slot in ${BACKGROUND_EVERY} while both wait; alone they run in order`, async () => {
    const q = new WorkQueue({ concurrency: 1, maxQueue: 20, maxBackgroundQueue: 20, onError: () => undefined });
    const order: string[] = [];
    const g = gate();
    assert.equal(q.offer(() => g.promise), true);
    for (let i = 1; i <= 4; i++) q.offer(async () => void order.push(`t${i}`), LANE.background);
    for (let i = 1; i <= 6; i++) q.offer(async () => void order.push(`r${i}`));
    q.offer(async () => void order.push('cmd'), LANE.priority);
    assert.equal(q.waitingIn(LANE.background), 4);
    assert.equal(q.waiting, 11);
    g.open();
    await q.idle();
    assert.deepEqual(order, ['cmd', 'r1', 'r2', 'r3', 't1', 'r4', 'r5', 'r6', 't2', 't3', 't4']);
    const bg = new WorkQueue({ concurrency: 1, maxQueue: 5, maxBackgroundQueue: 1, onError: () => undefined });
    const never = new Promise<void>(() => undefined);
    assert.equal(bg.offer(() => never), true);
    assert.equal(bg.offer(() => never, LANE.background), true);
    assert.equal(bg.offer(() => never, LANE.background), false, 'the background lane has its own bound');
    assert.equal(bg.offer(() => never), true, 'which does not refuse requests');
  });

  it('each lane refuses when it is full; a full normal lane does not refuse commands', () => {
    const q = new WorkQueue({ concurrency: 1, maxQueue: 1, maxPriorityQueue: 1, onError: () => undefined });
    const never = new Promise<void>(() => undefined);
    assert.equal(q.offer(() => never), true);
    assert.equal(q.offer(() => never), true);
    assert.equal(q.offer(() => never), false);
    assert.equal(q.offer(() => never, LANE.priority), true);
    assert.equal(q.offer(() => never, LANE.priority), false);
    assert.equal(q.waiting, 2);
  });

  it('refuses everything once closed and resolves close() when the running jobs finished', async () => {
    const q = new WorkQueue({ concurrency: 2, maxQueue: 2, onError: () => undefined });
    const g = gate();
    q.offer(() => g.promise);
    const closed = q.close();
    assert.equal(q.offer(async () => undefined, LANE.priority), false);
    g.open();
    await closed;
    assert.equal(q.running, 0);
  });
});
