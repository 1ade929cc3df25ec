import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HeldPublisher } from '../src/held-publisher.js';

function fakeConnection(refuse?: string): { nc: { publish(subject: string, data: Uint8Array, options?: unknown): void }; sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    nc: {
      publish(subject) {
        if (subject === refuse) throw new Error('connection draining');
        sent.push(subject);
      },
    },
  };
}

describe('HeldPublisher: a turn of publishes handed over together', () => {
  it('holds publishes until the end of the turn, then hands them over in order', async () => {
    const { nc, sent } = fakeConnection();
    const p = new HeldPublisher(nc);
    p.publish('a', new Uint8Array());
    await Promise.resolve(); // a promise continuation of the same turn
    p.publish('b', new Uint8Array(), { reply: 'r' });
    assert.deepEqual(sent, []);
    await nextTurn();
    assert.deepEqual(sent, ['a', 'b']);
  });

  it('a burst is handed over once 1024 are held; flush() hands over the rest at once', () => {
    const { nc, sent } = fakeConnection();
    const p = new HeldPublisher(nc);
    for (let i = 0; i < 1030; i++) p.publish(`s${i}`, new Uint8Array());
    assert.equal(sent.length, 1024);
    p.flush();
    assert.equal(sent.length, 1030);
    assert.equal(sent.at(-1), 's1029');
  });

  it('a publish the client refuses is reported and the others still go', async () => {
    const { nc, sent } = fakeConnection('bad');
    const refused: string[] = [];
    const p = new HeldPublisher(nc, (subject) => refused.push(subject));
    p.publish('ok1', new Uint8Array());
    p.publish('bad', new Uint8Array());
    p.publish('ok2', new Uint8Array());
    await nextTurn();
    assert.deepEqual(sent, ['ok1', 'ok2']);
    assert.deepEqual(refused, ['bad']);
  });
});
