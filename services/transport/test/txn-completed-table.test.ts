import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NonInviteServerState } from '../src/txn/non-invite-server.js';
import { ResponseSlab } from '../src/txn/response-slab.js';
import { numberHash, RowIndex, stringHash } from '../src/txn/row-index.js';
import type { ServerTxnHandle } from '../src/txn/transaction-layer.js';
import { assertDrained, harness, request, responseTo, UDP, type Harness, type RequestSpec } from './txn-harness.test.js';

const options = (i: number): RequestSpec => ({ method: 'OPTIONS', branch: `z9hG4bK-opt-${i}`, callId: `call-${i}@192.0.2.10` });

function complete(h: Harness, i: number, status = 200): ServerTxnHandle {
  const r = h.layer.receiveRequest(request(options(i)), UDP);
  assert.equal(r.kind, 'new');
  if (r.kind !== 'new') throw new Error('not new');
  const { res, bytes } = responseTo(r.txn.request, status);
  assert.equal(h.layer.respond(r.txn.id, res, bytes), 'sent');
  return r.txn;
}

/** The Call-ID line of the last message sent. */
const lastCallId = (h: Harness): string | undefined => /^Call-ID: (.*)$/m.exec(h.sent.at(-1)?.text ?? '')?.[1];

describe('txn completed table: non-INVITE server transactions in Completed over UDP (RFC 3261 §17.2.2)', () => {
  it('§17.2.2 Timer J = 64*T1: a retransmission 31 s after the final response is answered with it, one 33 s after is a new request', () => {
    const h = harness();
    const txn = complete(h, 1);
    h.clock.advance(31_000);
    assert.equal(h.layer.receiveRequest(request(options(1)), UDP).kind, 'retransmission');
    assert.equal(h.sent.length, 2);
    assert.equal(h.sent[1]?.text, h.sent[0]?.text, 'the same final response, byte for byte');
    assert.equal(txn.state, NonInviteServerState.completed);
    h.clock.advance(999);
    assert.equal(h.eventsOf('terminated').length, 0);
    h.clock.advance(1);
    assert.deepEqual(h.eventsOf('terminated'), [{ type: 'terminated', side: 'server', id: txn.id, method: 'OPTIONS', state: 'completed', reason: 'normal' }]);
    assert.equal(txn.state, NonInviteServerState.terminated);
    h.clock.advance(1000);
    assert.equal(h.layer.receiveRequest(request(options(1)), UDP).kind, 'new');
    assert.equal(h.sent.length, 2);
  });

  it('each transaction keeps its own Timer J, with one clock timer for all of them', () => {
    const h = harness({ maxServerTxns: 10_000 });
    const txns: ServerTxnHandle[] = [];
    for (let i = 0; i < 100; i++) {
      txns.push(complete(h, i));
      h.clock.advance(10);
    }
    assert.equal(h.clock.pending, 1);
    assert.equal(h.layer.size().server, 100);
    h.clock.advance(30_999); // now 31 999: the first one completed at 0
    assert.equal(h.eventsOf('terminated').length, 0);
    h.clock.advance(1);
    assert.deepEqual(h.eventsOf('terminated').map((e) => e.id), [txns[0]?.id]);
    h.clock.advance(495); // now 32 495: those completed at 0, 10, ..., 490
    assert.deepEqual(
      h.eventsOf('terminated').map((e) => e.id),
      txns.slice(0, 50).map((t) => t.id),
      'in completion order, each at its own time',
    );
    assert.equal(h.clock.pending, 1);
    assertDrained(h);
  });

  it('expires exactly 64*T1 after each completion, also with a T1 other than 500 ms', () => {
    const h = harness({ timers: { T1: 100 } });
    const a = complete(h, 1);
    h.clock.advance(700);
    const b = complete(h, 2);
    h.clock.advance(6399 - 700);
    assert.equal(a.state, NonInviteServerState.completed);
    h.clock.advance(1);
    assert.equal(a.state, NonInviteServerState.terminated);
    assert.equal(b.state, NonInviteServerState.completed);
    h.clock.advance(699);
    assert.equal(b.state, NonInviteServerState.completed);
    h.clock.advance(1);
    assert.equal(b.state, NonInviteServerState.terminated);
    assertDrained(h);
  });

  it('grows past its initial ring and shrinks back; every row answers with its own response', () => {
    const h = harness({ maxServerTxns: 20_000 });
    const n = 5000;
    for (let i = 0; i < n; i++) complete(h, i);
    assert.equal(h.layer.size().server, n);
    for (const i of [0, 1023, 1024, 2500, n - 1]) {
      assert.equal(h.layer.receiveRequest(request(options(i)), UDP).kind, 'retransmission');
      assert.equal(lastCallId(h), `call-${i}@192.0.2.10`);
    }
    const held = h.layer.completedResponseBytes();
    assert.ok(held >= n * h.sent[0]!.text.length, `all ${n} responses are held (${held} bytes)`);
    h.clock.advance(32_000);
    assert.equal(h.layer.size().server, 0);
    assert.ok(h.layer.completedResponseBytes() <= 256 * 1024, 'only the chunk being filled is left');
    // Reused after shrinking.
    complete(h, n);
    assert.equal(h.layer.receiveRequest(request(options(n)), UDP).kind, 'retransmission');
    assert.equal(lastCallId(h), `call-${n}@192.0.2.10`);
    assertDrained(h);
  });

  it('§17.2.2 a response from the TU on a completed transaction is refused (bad-state); server() no longer lists it', () => {
    const h = harness();
    const txn = complete(h, 1);
    assert.equal(h.layer.server(txn.id), undefined);
    const { res, bytes } = responseTo(request(options(1)), 500);
    assert.equal(h.layer.respond(txn.id, res, bytes), 'bad-state');
    for (const id of [`${txn.id}0`, `${txn.id}!`, txn.id.replace(/-s/, '-c'), 'nonsense', `${txn.id.slice(0, -1)}zzzzzzzzzzzz`]) {
      assert.equal(h.layer.respond(id, res, bytes), 'unknown-transaction', id);
    }
    assert.equal(h.sent.length, 1);
    h.clock.advance(32_000);
    assert.equal(h.layer.respond(txn.id, res, bytes), 'unknown-transaction');
  });

  it('§17.2.4 a failing resend ends the completed transaction; the next request with its key is new', () => {
    const h = harness();
    const txn = complete(h, 1);
    complete(h, 2);
    h.failSends = true;
    assert.equal(h.layer.receiveRequest(request(options(1)), UDP).kind, 'retransmission');
    assert.equal(txn.state, NonInviteServerState.terminated);
    assert.deepEqual(
      h.eventsOf('terminated').map((e) => [e.id, e.reason]),
      [[txn.id, 'transport-error']],
    );
    assert.equal(h.eventsOf('transport-error').length, 1);
    h.failSends = false;
    assert.equal(h.layer.receiveRequest(request(options(1)), UDP).kind, 'new');
    assert.equal(h.layer.receiveRequest(request(options(2)), UDP).kind, 'retransmission', 'the other one is untouched');
  });

  it('retransmissions are reported in and out with the transaction id; the full table counts completed ones', () => {
    const h = harness({ maxServerTxns: 2 });
    const txn = complete(h, 1);
    h.layer.receiveRequest(request(options(1)), UDP);
    assert.deepEqual(
      h.eventsOf('retransmission').map((e) => [e.id, e.direction]),
      [
        [txn.id, 'in'],
        [txn.id, 'out'],
      ],
    );
    complete(h, 2);
    assert.equal(h.layer.receiveRequest(request(options(3)), UDP).kind, 'overload');
    h.clock.advance(32_000);
    assert.equal(h.layer.receiveRequest(request(options(3)), UDP).kind, 'new');
  });

  it('close() ends every completed transaction (reason closed) and stops its timer', () => {
    const h = harness();
    const a = complete(h, 1);
    const b = complete(h, 2);
    h.layer.close();
    assert.deepEqual(
      h.eventsOf('terminated').map((e) => [e.id, e.reason]),
      [
        [a.id, 'closed'],
        [b.id, 'closed'],
      ],
    );
    assert.equal(b.state, NonInviteServerState.terminated);
    assert.deepEqual(h.layer.size(), { server: 0, client: 0, pendingAcks: 0 });
    assert.equal(h.clock.pending, 0);
  });

  it('keeps a few hundred bytes of heap per completed transaction (no parsed request, machine or timer)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const h = harness({ maxServerTxns: 100_000 });
    const n = 20_000;
    complete(h, -1); // tables and code in place
    h.sent.length = 0;
    h.events.length = 0;
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) complete(h, i);
    h.sent.length = 0; // the harness's own record of what was sent
    h.events.length = 0;
    gc();
    gc();
    const perTxn = (process.memoryUsage().heapUsed - before) / n;
    assert.equal(h.layer.size().server, n + 1);
    // About 140 B here (the key string and its ring slots; the indexes are typed arrays); a machine
    // with its parsed request and timer was over 2 KB. Responses are counted apart (slab, outside
    // the JS heap).
    assert.ok(perTxn < 600, `${perTxn.toFixed(0)} bytes of heap per completed transaction`);
    assert.ok(h.layer.completedResponseBytes() < (n + 1) * 400 + 256 * 1024, 'response bytes bounded by the responses themselves');
  });
});

describe('txn response slab', () => {
  it('stores responses in order in shared chunks, a larger one in a chunk of its own, and views stay valid after release', () => {
    const slab = new ResponseSlab(16);
    const a = slab.append(Buffer.from('aaaaaaaa'));
    const chunkA = slab.lastChunk;
    const b = slab.append(Buffer.from('bbbbbbbb'));
    assert.equal(slab.lastChunk, chunkA, 'both fit the first chunk');
    const c = slab.append(Buffer.from('c'.repeat(40)));
    const chunkC = slab.lastChunk;
    assert.equal(chunkC, chunkA + 1);
    const d = slab.append(Buffer.from('dd'));
    assert.equal(slab.lastChunk, chunkC + 1, 'a full chunk is never written again');
    const viewA = slab.view(chunkA, a, 8);
    assert.equal(Buffer.from(slab.view(chunkA, b, 8)).toString(), 'bbbbbbbb');
    assert.equal(Buffer.from(slab.view(chunkC, c, 40)).toString(), 'c'.repeat(40));
    assert.equal(Buffer.from(slab.view(chunkC + 1, d, 2)).toString(), 'dd');
    assert.equal(slab.bytesHeld, 16 + 40 + 16);
    slab.releaseBefore(chunkC + 1);
    assert.equal(slab.bytesHeld, 16);
    assert.throws(() => slab.view(chunkA, a, 8), /released/);
    assert.equal(Buffer.from(viewA).toString(), 'aaaaaaaa', 'a view handed out before the release is intact');
    slab.releaseBefore(chunkC + 5);
    assert.equal(slab.bytesHeld, 16, 'the chunk being filled is kept');
    slab.clear();
    assert.equal(slab.bytesHeld, 0);
    const e = slab.append(Buffer.from('e'));
    assert.equal(Buffer.from(slab.view(slab.lastChunk, e, 1)).toString(), 'e');
    assert.throws(() => new ResponseSlab(0), RangeError);
  });
});

describe('txn row index (open addressing, backward-shift deletion)', () => {
  /** A ring of keys the index points into, as the completed table has. */
  function indexed<K>(): { keys: Map<number, K>; index: RowIndex<K> } {
    const keys = new Map<number, K>();
    return { keys, index: new RowIndex<K>({ rowHolds: (row, key) => keys.get(row) === key }) };
  }

  it('agrees with a Map under random adds and deletes, through growth, shrinking and colliding hashes', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    // Few distinct hashes: long probe runs that wrap around the end of the table.
    const hash = (k: number): number => stringHash(String(k % 3000)) | (k % 7 === 0 ? 2047 : 0);
    const { keys, index } = indexed<number>();
    const model = new Map<number, number>();
    let row = 0;
    for (let step = 0; step < 60_000; step++) {
      const k = random(20_000);
      if (model.has(k) && random(3) > 0) {
        assert.equal(index.delete(k, hash(k)), true);
        keys.delete(model.get(k)!);
        model.delete(k);
      } else if (!model.has(k)) {
        keys.set(row, k);
        index.add(hash(k), row);
        model.set(k, row++);
      }
      if (step % 997 === 0) {
        for (let q = 0; q < 200; q++) {
          const probe = random(20_000);
          assert.equal(index.get(probe, hash(probe)), model.get(probe) ?? -1, `key ${probe} at step ${step}`);
        }
        assert.equal(index.size, model.size);
      }
    }
    for (const [k, r] of model) assert.equal(index.get(k, hash(k)), r);
    assert.equal(index.delete(-5, hash(-5)), false);
    for (const k of [...model.keys()]) assert.equal(index.delete(k, hash(k)), true);
    assert.equal(index.size, 0);
    assert.equal(index.slots, 2048, 'shrunk back to its smallest size');
  });

  it('keeps 1/2 load at most and grows and shrinks by rebuilding from the stored hashes', () => {
    const { keys, index } = indexed<string>();
    for (let i = 0; i < 5000; i++) {
      const key = `3261\u0000z9hG4bK-${i}\u0000192.0.2.10:5060\u0000OPTIONS`;
      keys.set(i, key);
      index.add(stringHash(key), i);
    }
    assert.equal(index.size, 5000);
    assert.ok(index.slots >= 10_000 && index.slots <= 16_384, `${index.slots} slots`);
    assert.equal(index.get('3261\u0000z9hG4bK-4999\u0000192.0.2.10:5060\u0000OPTIONS', stringHash('3261\u0000z9hG4bK-4999\u0000192.0.2.10:5060\u0000OPTIONS')), 4999);
    assert.equal(index.get('3261\u0000z9hG4bK-4999\u0000192.0.2.10:5060\u0000INVITE', stringHash('3261\u0000z9hG4bK-4999\u0000192.0.2.10:5060\u0000INVITE')), -1);
    index.clear();
    assert.equal(index.size, 0);
    assert.equal(index.get(keys.get(1)!, stringHash(keys.get(1)!)), -1);
  });

  it('sequential transaction numbers and similar keys, added and removed in order, leave only short runs of slots', () => {
    const byNumber = indexed<number>();
    const byKey = indexed<string>();
    const live = 100_000;
    const key = (i: number): string => `3261\u0000z9hG4bK-4242-${i}-0\u0000127.0.0.1:5061\u0000OPTIONS`;
    for (let i = 0; i < 2.5 * live; i++) {
      byNumber.keys.set(i, i);
      byNumber.index.add(numberHash(i), i);
      byKey.keys.set(i, key(i));
      byKey.index.add(stringHash(key(i)), i);
      if (i >= live) {
        const old = i - live;
        assert.equal(byNumber.index.delete(old, numberHash(old)), true);
        byNumber.keys.delete(old);
        assert.equal(byKey.index.delete(key(old), stringHash(key(old))), true);
        byKey.keys.delete(old);
      }
    }
    assert.equal(byNumber.index.size, live);
    // Identity hashing would leave one run of 100,000 slots here, walked by every delete.
    assert.ok(byNumber.index.longestRun() < 200, `numbers: longest run ${byNumber.index.longestRun()}`);
    assert.ok(byKey.index.longestRun() < 200, `keys: longest run ${byKey.index.longestRun()}`);
    assert.equal(byNumber.index.get(2.5 * live - 1, numberHash(2.5 * live - 1)), 2.5 * live - 1);
    assert.notEqual(numberHash(2 ** 32 + 5), numberHash(5), 'the high bits count');
  });
});
