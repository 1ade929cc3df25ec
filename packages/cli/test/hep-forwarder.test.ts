import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { subjects } from '@sipnats/contracts';
import { BoundedQueue } from '../src/hep/bounded-queue.js';
import { HepForwarder } from '../src/hep/hep-forwarder.js';
import type { DatagramSender } from '../src/hep/hep-forwarder.js';
import { decodeRaw } from '../src/tail/raw-record.js';
import type { RawRecord } from '../src/tail/raw-record.js';
import { CALL, fixtureHeaders } from './tail-fixture.js';
import type { FixtureMessage } from './tail-fixture.js';

const s = subjects('sip');
function rec(i: number, headers: Record<string, string | undefined> = {}): RawRecord {
  const m = CALL[i % CALL.length] as FixtureMessage;
  const h: Record<string, string | undefined> = { ...fixtureHeaders(m, 1000 + i), ...headers };
  const r = decodeRaw({ subject: m.direction === 'in' ? s.rawIn('t1') : s.rawOut('t1'), data: Buffer.from(m.text), header: (n) => h[n] }, s, 0);
  if (r === undefined) throw new Error('not raw');
  return r;
}

/** A sender that holds every send until the test completes it. */
class HeldSender implements DatagramSender {
  readonly sent: Uint8Array[] = [];
  readonly waiting: ((err: Error | null) => void)[] = [];
  send(packet: Uint8Array, done: (err: Error | null) => void): void {
    this.sent.push(packet);
    this.waiting.push(done);
  }
  completeAll(err: Error | null = null): void {
    for (const done of this.waiting.splice(0)) done(err);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('hep: bounded queue', () => {
  it('keeps FIFO order, refuses and counts pushes when full, and reuses freed slots', () => {
    const q = new BoundedQueue<number>(3);
    assert.deepEqual([q.push(1), q.push(2), q.push(3), q.push(4), q.push(5)], [true, true, true, false, false]);
    assert.equal(q.dropped, 2);
    assert.equal(q.shift(), 1);
    assert.equal(q.push(6), true);
    assert.deepEqual([q.shift(), q.shift(), q.shift(), q.shift()], [2, 3, 6, undefined]);
    assert.equal(q.size, 0);
    assert.equal(q.dropped, 2);
    assert.throws(() => new BoundedQueue(0), RangeError);
  });
});

describe('hep: forwarder', () => {
  it('never waits on a slow collector: beyond queue + in-flight, messages are dropped and counted', async () => {
    const sender = new HeldSender();
    const f = new HepForwarder({ identity: { captureId: 1, correlate: true }, queueSize: 5, sender, maxInFlight: 2 });
    for (let i = 0; i < 20; i++) f.offer(rec(i));
    assert.equal(sender.sent.length, 2);
    assert.deepEqual(f.stats(), { received: 20, forwarded: 0, dropped: 13, invalid: 0, sendErrors: 0, pending: 7 });
    sender.completeAll();
    await tick();
    sender.completeAll();
    await tick();
    sender.completeAll();
    await tick();
    sender.completeAll();
    await tick();
    assert.deepEqual(f.stats(), { received: 20, forwarded: 7, dropped: 13, invalid: 0, sendErrors: 0, pending: 0 });
    assert.equal(sender.sent.length, 7);
    // What was sent is the first 7 messages, in order (time chunk 0x0a carries the ms offset).
    const usec = sender.sent.map((p) => Buffer.from(p).readUInt32BE(Buffer.from(p).indexOf(Buffer.from('0000000a000a', 'hex')) + 6));
    assert.deepEqual(usec, [0, 1000, 2000, 3000, 4000, 5000, 6000]);
  });

  it('counts send errors and messages without addresses, and flush resolves when idle', async () => {
    const sender = new HeldSender();
    const errors: string[] = [];
    const f = new HepForwarder({ identity: { captureId: 1, correlate: false }, queueSize: 10, sender, onSendError: (e) => errors.push(e.message) });
    f.offer(rec(0, { 'Sipnats-Local': undefined }));
    f.offer(rec(1));
    f.offer(rec(2));
    const flushed = f.flush(5000);
    sender.completeAll(new Error('ECONNREFUSED'));
    await flushed;
    assert.deepEqual(f.stats(), { received: 3, forwarded: 0, dropped: 0, invalid: 1, sendErrors: 2, pending: 0 });
    assert.deepEqual(errors, ['ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('a sender that throws counts as a send error, not a crash', () => {
    const f = new HepForwarder({
      identity: { captureId: 1, correlate: false },
      queueSize: 10,
      sender: {
        send() {
          throw new Error('socket closed');
        },
      },
    });
    f.offer(rec(0));
    assert.equal(f.stats().sendErrors, 1);
  });
});
