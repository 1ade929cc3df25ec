import assert from 'node:assert/strict';
import type { NatsPort } from '../src/publish/nats-port.js';
import { Priority, Publisher } from '../src/publish/publisher.js';

class FakePort implements NatsPort {
  connected = true;
  readonly sent: string[] = [];
  publish(subject: string): void {
    this.sent.push(subject);
  }
  subscribe(): { unsubscribe(): void } {
    return { unsubscribe: () => undefined };
  }
}

function make(bound: number) {
  const port = new FakePort();
  const dropped: string[] = [];
  const p = new Publisher(port, bound, { onPublished: () => undefined, onDropped: (prio, why) => dropped.push(`${prio}:${why}`) });
  return { port, p, dropped };
}

describe('bounded publish queue and shedding', function () {
  it('queues without publishing synchronously, then publishes in order on pump', function () {
    const { port, p } = make(10);
    assert.ok(p.offer('a', new Uint8Array(1), Priority.high));
    assert.ok(p.offer('b', new Uint8Array(1), Priority.high));
    assert.deepEqual(port.sent, [], 'offer never publishes on the caller stack');
    p.pump();
    assert.deepEqual(port.sent, ['a', 'b']);
    assert.equal(p.size, 0);
  });

  it('refuses raw copies at half the bound, requests only when full', function () {
    const { p, dropped } = make(4);
    assert.ok(p.offer('r1', new Uint8Array(1), Priority.low));
    assert.ok(p.offer('r2', new Uint8Array(1), Priority.low));
    assert.equal(p.offer('r3', new Uint8Array(1), Priority.low), false);
    assert.ok(p.offer('q1', new Uint8Array(1), Priority.high));
    assert.ok(p.offer('q2', new Uint8Array(1), Priority.high));
    assert.equal(p.accepting, false);
    assert.equal(p.offer('q3', new Uint8Array(1), Priority.high), false);
    assert.deepEqual(dropped, ['low:full', 'high:full']);
  });

  it('refuses everything while NATS is disconnected and recovers by itself when it returns', function () {
    const { port, p, dropped } = make(10);
    assert.ok(p.offer('before', new Uint8Array(1), Priority.high));
    port.connected = false;
    assert.equal(p.accepting, false);
    assert.equal(p.offer('during', new Uint8Array(1), Priority.high), false);
    p.pump();
    assert.deepEqual(port.sent, [], 'queued messages wait for the reconnect');
    port.connected = true;
    assert.ok(p.accepting);
    assert.ok(p.offer('after', new Uint8Array(1), Priority.high));
    p.pump();
    assert.deepEqual(port.sent, ['before', 'after']);
    assert.deepEqual(dropped, ['high:disconnected']);
    p.close();
  });

  it('counts a publish that throws as dropped and goes on', function () {
    const { port, p, dropped } = make(10);
    let first = true;
    port.publish = (subject: string) => {
      if (first) {
        first = false;
        throw new Error('boom');
      }
      port.sent.push(subject);
    };
    p.offer('x', new Uint8Array(1), Priority.high);
    p.offer('y', new Uint8Array(1), Priority.high);
    p.pump();
    assert.deepEqual(port.sent, ['y']);
    assert.deepEqual(dropped, ['high:error']);
  });
});
