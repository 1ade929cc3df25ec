import assert from 'node:assert/strict';
import { LANE, WorkQueue } from '../src/runtime/work-queue.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

describe('work queue: bounded concurrency, two bounded lanes', () => {
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
