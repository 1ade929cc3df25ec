import assert from 'node:assert/strict';
import { pooledRandom, randomToken } from '../src/ports.js';

/** A fill that writes a running counter (mod 256), so every byte drawn can be told apart. */
function counting(): { fill: (buf: Uint8Array) => void; draws: () => number } {
  let n = 0;
  let draws = 0;
  return {
    fill: (buf) => {
      draws++;
      for (let i = 0; i < buf.length; i++) buf[i] = n++ % 256;
    },
    draws: () => draws,
  };
}

describe('pooled random source', () => {
  it('hands out every drawn byte once, in order, across refills, and draws once per pool', () => {
    const c = counting();
    const random = pooledRandom(c.fill, 64);
    const got: number[] = [];
    for (let i = 0; i < 40; i++) got.push(...random(7)); // 280 bytes: several refills, unused tails skipped
    assert.equal(got.length, 280);
    assert.equal(c.draws(), 5, '9 results of 7 bytes per 64-byte pool');
    // Within a pool the bytes follow each other; a refill starts a new run of the counter.
    for (let i = 1; i < got.length; i++) if (i % 63 !== 0) assert.equal(got[i], ((got[i - 1] ?? 0) + 1) % 256);
  });

  it('results are copies: a later refill does not change what was handed out', () => {
    const random = pooledRandom(counting().fill, 8);
    const first = random(8);
    const copy = [...first];
    random(8);
    assert.deepEqual([...first], copy);
  });

  it('a request larger than the pool is filled on its own', () => {
    const c = counting();
    const random = pooledRandom(c.fill, 8);
    assert.equal(random(20).length, 20);
    assert.equal(c.draws(), 1);
    assert.equal(randomToken(pooledRandom(c.fill, 8), 8).length, 16);
  });
});
