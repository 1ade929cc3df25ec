import assert from 'node:assert/strict';
import { DeadlineQueue } from '../src/txn/deadline-queue.js';
import { ManualClock } from '../src/txn/manual-clock.js';

function setup(durationMs = 1000): { clock: ManualClock; q: DeadlineQueue<string>; expired: Array<[number, string]> } {
  const clock = new ManualClock();
  const expired: Array<[number, string]> = [];
  const q = new DeadlineQueue<string>(clock, durationMs, (item) => expired.push([clock.now(), item]));
  return { clock, q, expired };
}

describe('transport: deadline queue (one clock timer for many deadlines of one duration)', () => {
  it('expires each item exactly its duration after it was added, in order, with one clock timer', () => {
    const { clock, q, expired } = setup();
    for (let i = 0; i < 100; i++) {
      q.add(`i${i}`);
      clock.advance(7);
    }
    assert.equal(clock.pending, 1);
    assert.equal(q.size, 100);
    clock.advance(2000);
    assert.deepEqual(
      expired,
      Array.from({ length: 100 }, (_, i) => [i * 7 + 1000, `i${i}`]),
    );
    assert.equal(q.size, 0);
    assert.equal(clock.pending, 0);
  });

  it('a cancelled item never expires; the queue keeps waiting for the others and stops its timer when empty', () => {
    const { clock, q, expired } = setup();
    const a = q.add('a');
    clock.advance(100);
    q.add('b');
    clock.advance(100);
    const c = q.add('c');
    q.cancel(a);
    q.cancel(a); // twice: nothing more
    q.cancel(c);
    q.cancel(12345); // never issued
    assert.equal(q.size, 1);
    clock.advance(5000);
    assert.deepEqual(expired, [[1100, 'b']]);
    const d = q.add('d');
    assert.equal(clock.pending, 1);
    q.cancel(d);
    assert.equal(clock.pending, 0, 'nothing left: no timer');
  });

  it('grows past its first ring and keeps the order; an expiry may add and cancel', () => {
    const { clock, q, expired } = setup(50);
    const tickets: number[] = [];
    for (let i = 0; i < 1000; i++) tickets.push(q.add(`x${i}`));
    for (let i = 0; i < 1000; i += 2) q.cancel(tickets[i] as number);
    const chained = new DeadlineQueue<string>(clock, 10, (item) => {
      expired.push([clock.now(), item]);
      if (item === 'first') {
        chained.add('second');
        chained.cancel(0);
      }
    });
    chained.add('first');
    clock.advance(100);
    assert.deepEqual(
      expired.filter(([, item]) => item.startsWith('x')).map(([, item]) => item),
      Array.from({ length: 500 }, (_, i) => `x${2 * i + 1}`),
    );
    assert.deepEqual(
      expired.filter(([, item]) => !item.startsWith('x')),
      [
        [10, 'first'],
        [20, 'second'],
      ],
    );
    assert.equal(clock.pending, 0);
  });

  it('clear() forgets everything and stops the timer', () => {
    const { clock, q, expired } = setup();
    q.add('a');
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(clock.pending, 0);
    clock.advance(5000);
    assert.deepEqual(expired, []);
    assert.throws(() => new DeadlineQueue(clock, -1, () => undefined), RangeError);
  });
});
