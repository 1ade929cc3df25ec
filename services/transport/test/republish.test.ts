import assert from 'node:assert/strict';
import type { RequestEnvelope } from '@sipnats/contracts';
import { Registry } from 'prom-client';
import { createRepublisher } from '../src/inbound/republish-wiring.js';
import { Republisher, type RepublisherOptions } from '../src/inbound/republish.js';
import type { Publisher } from '../src/publish/publisher.js';
import { ManualClock } from '../src/txn/manual-clock.js';
import { harness, request, responseTo, UDP } from './txn-harness.test.js';

const ENV: RequestEnvelope = {
  v: 1,
  instance: 't1',
  flow: { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', id: 'udp0/127.0.0.1:5070' },
  txn: 'abc-s1',
  receivedAt: 1,
  method: 'BYE',
  uri: 'sip:bob@127.0.0.1',
  callId: 'c1',
  cseq: { seq: 2, method: 'BYE' },
  from: { uri: 'sip:alice@127.0.0.1', tag: 'a' },
  to: { uri: 'sip:bob@127.0.0.1', tag: 'b' },
  branch: 'z9hG4bK-1',
  raw: 'QllF',
};
/** The envelope as the inbound path publishes it first. */
const JSON_ENV = Buffer.from(JSON.stringify(ENV), 'utf8');

interface Published {
  at: number;
  subject: string;
  attempt: number | undefined;
}

function setup(o: Partial<RepublisherOptions> = {}): { clock: ManualClock; rp: Republisher; published: Published[]; waiting: Set<string>; accept: { value: boolean } } {
  const clock = new ManualClock();
  const published: Published[] = [];
  const waiting = new Set<string>(['abc-s1']);
  const accept = { value: true };
  const rp = new Republisher({
    clock,
    maxAgeMs: 32_000,
    maxTracked: 10,
    stillWaiting: (txn) => waiting.has(txn),
    publish: (subject, env, attempt) => {
      assert.equal(env, JSON_ENV);
      published.push({ at: clock.now(), subject, attempt });
      return accept.value;
    },
    ...o,
  });
  return { clock, rp, published, waiting, accept };
}

describe('transport: publishing a request again while no ua answered (core NATS is at most once)', () => {
  it('publishes again after 1, 2, 4, 8 and 16 s with the same txn and attempt 2..6, then stops at 64*T1', () => {
    const { clock, rp, published } = setup();
    rp.track('abc-s1', 'sip.req.BYE', 'BYE', JSON_ENV);
    clock.advance(999);
    assert.equal(published.length, 0);
    clock.advance(40_000);
    assert.deepEqual(
      published.map((p) => [p.at, p.attempt, p.subject]),
      [
        [1000, 2, 'sip.req.BYE'],
        [3000, 3, 'sip.req.BYE'],
        [7000, 4, 'sip.req.BYE'],
        [15000, 5, 'sip.req.BYE'],
        [31000, 6, 'sip.req.BYE'],
      ],
    );
    assert.equal(rp.size, 0);
    assert.equal(clock.pending, 0);
  });

  it('stops at the first response from the TU', () => {
    const { clock, rp, published } = setup();
    rp.track('abc-s1', 'sip.req.BYE', 'BYE', JSON_ENV);
    clock.advance(1500);
    rp.answered('abc-s1');
    clock.advance(60_000);
    assert.deepEqual(published.map((p) => p.attempt), [2]);
    assert.equal(clock.pending, 0);
  });

  it('stops when the transaction ended or no longer waits', () => {
    const a = setup();
    a.rp.track('abc-s1', 'sip.req.BYE', 'BYE', JSON_ENV);
    a.rp.ended('abc-s1');
    a.clock.advance(60_000);
    assert.equal(a.published.length, 0);

    const b = setup();
    b.rp.track('abc-s1', 'sip.req.BYE', 'BYE', JSON_ENV);
    b.clock.advance(1000);
    b.waiting.delete('abc-s1');
    b.clock.advance(60_000);
    assert.deepEqual(b.published.map((p) => p.attempt), [2]);
    assert.equal(b.rp.size, 0);
  });

  it('keeps its schedule when the publish queue refuses one (NATS down), and never exceeds maxAgeMs', () => {
    const { clock, rp, published, accept } = setup({ maxAgeMs: 8000 });
    accept.value = false;
    rp.track('abc-s1', 'sip.req.BYE', 'BYE', JSON_ENV);
    clock.advance(2000);
    accept.value = true;
    clock.advance(60_000);
    assert.deepEqual(published.map((p) => [p.at, p.attempt]), [
      [1000, 2],
      [3000, 3],
      [7000, 4],
    ]);
  });

  it('is bounded: beyond maxTracked a request is published once; close() clears every timer', () => {
    const { clock, rp } = setup({ maxTracked: 2 });
    rp.track('x1', 's', 'BYE', JSON_ENV);
    rp.track('x2', 's', 'BYE', JSON_ENV);
    rp.track('x3', 's', 'BYE', JSON_ENV);
    rp.track('x1', 's', 'BYE', JSON_ENV); // tracked already: no second timer
    assert.equal(rp.size, 2);
    assert.equal(clock.pending, 1, 'one clock timer for the first waits of all of them');
    rp.close();
    assert.equal(clock.pending, 0);
    rp.track('x4', 's', 'BYE', JSON_ENV);
    assert.equal(rp.size, 0);
  });

  it('refuses bad options', () => {
    assert.throws(() => setup({ delaysMs: [1000, 0] }), RangeError);
    assert.throws(() => setup({ maxTracked: -1 }), RangeError);
  });

  it('wired to the transaction layer: an INVITE with only our 100 Trying is published again, one with a final response is not; counted in sipnats_transport_republished_total', async () => {
    const h = harness({ sendTrying: true });
    const offers: Array<{ subject: string; data: Uint8Array }> = [];
    const publisher = { offer: (subject: string, data: Uint8Array) => (offers.push({ subject, data }), true) } as unknown as Publisher;
    const registry = new Registry();
    const rp = createRepublisher({ clock: h.clock, txns: h.layer, publisher, registry, maxTracked: 100 });

    const inv = h.layer.receiveRequest(request({ method: 'INVITE', branch: 'z9hG4bK-inv' }), UDP);
    const bye = h.layer.receiveRequest(request({ method: 'BYE', branch: 'z9hG4bK-bye', toTag: 'x', cseq: 2 }), UDP);
    assert.ok(inv.kind === 'new' && bye.kind === 'new');
    const invEnv = { ...ENV, method: 'INVITE', txn: inv.txn.id };
    rp.track(inv.txn.id, 'sip.req.INVITE', 'INVITE', Buffer.from(JSON.stringify(invEnv), 'utf8'));
    rp.track(bye.txn.id, 'sip.req.BYE', 'BYE', Buffer.from(JSON.stringify({ ...ENV, txn: bye.txn.id }), 'utf8'));
    const { res, bytes } = responseTo(bye.txn.request, 200);
    assert.equal(h.layer.respond(bye.txn.id, res, bytes), 'sent');

    h.clock.advance(1000);
    assert.deepEqual(offers.map((o) => o.subject), ['sip.req.INVITE']);
    const text = Buffer.from(offers[0]?.data ?? []).toString('utf8');
    assert.equal(text, JSON.stringify({ ...invEnv, attempt: 2 }), 'the first envelope with attempt added');
    const env = JSON.parse(text) as RequestEnvelope;
    assert.equal(env.txn, inv.txn.id);
    assert.equal(env.attempt, 2);
    const metrics = await registry.metrics();
    assert.match(metrics, /sipnats_transport_republished_total\{method="INVITE",result="queued"\} 1/);
    rp.close();
    h.layer.close();
  });
});
