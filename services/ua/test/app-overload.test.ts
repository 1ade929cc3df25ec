import assert from 'node:assert/strict';
import { encodeJson, RequestEnvelope } from '@sipnats/contracts';
import { LANE } from '../src/runtime/work-queue.js';
import { MemoryCallStore, type CallEntry } from '../src/store/call-store.js';
import { envelope, harness } from './app-harness.js';
import { invite, req, type Dlg } from './app-sip.js';
import { FakeClock } from './support/fakes.js';

async function settleTicks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Call creation that waits until released (from the start, or from `hold()` on): the one slot stays busy while others queue. */
class GatedCallStore extends MemoryCallStore {
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  constructor(held = true) {
    super();
    if (held) this.hold();
  }
  hold(): void {
    this.#gate = new Promise<void>((resolve) => (this.#open = resolve));
  }
  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }
  override async create(entry: CallEntry): Promise<number | undefined> {
    if (this.#gate !== undefined) await this.#gate;
    return super.create(entry);
  }
}

async function shedCount(h: ReturnType<typeof harness>, reason: string): Promise<number> {
  const m = await h.app.ctx.metrics.shed.get();
  return m.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

describe('ua app: overload (requests too old for SIPNATS_MAX_QUEUE_WAIT, timer jobs waiting for a slot)', () => {
  for (const [waitMs, shed] of [
    [2500, true],
    [1500, false],
  ] as const) {
    it(`waited ${waitMs} ms of 2000: ${shed ? 'new requests get 503 + Retry-After without being handled, in-dialog ones are handled' : 'every request is handled'}`, async () => {
      const clock = new FakeClock();
      const calls = new GatedCallStore();
      const h = harness({ SIPNATS_MAX_CONCURRENCY: '1', SIPNATS_MAX_QUEUE_WAIT: '2s' }, { calls, clock });
      const deliver = (raw: Buffer): void => h.messaging.deliver(`sip.req.${envelope(raw).method}`, encodeJson(RequestEnvelope, envelope(raw)));
      deliver(invite({ callId: 'ov-1', fromTag: 'a1' })); // takes the one slot, waits in create
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      assert.equal(h.app.queue.running, 1);
      deliver(req('OPTIONS', { callId: 'ov-2', fromTag: 'a2' }, 1));
      deliver(invite({ callId: 'ov-3', fromTag: 'a3' }));
      const inDialog: Dlg = { callId: 'ov-4', fromTag: 'a4', toTag: 'b4' };
      deliver(req('BYE', inDialog, 2));
      assert.equal(h.app.queue.waiting, 3);
      clock.advance(waitMs);
      calls.release();
      await h.idle();
      const answers = h.responses().map((r) => [r.msg.callId, r.msg.status, r.msg.getHeader('Retry-After') ?? null]);
      const byCall = new Map(answers.map(([c, ...rest]) => [c, rest]));
      if (shed) {
        assert.deepEqual(byCall.get('ov-2'), [503, '5']);
        assert.deepEqual(byCall.get('ov-3'), [503, '5']);
        assert.equal(await shedCount(h, 'wait'), 2);
        assert.deepEqual(h.callEvents().map((e) => e.event), ['offer'], 'only the INVITE that had the slot was offered');
      } else {
        assert.deepEqual(byCall.get('ov-2'), [200, null]);
        assert.equal(byCall.get('ov-3'), undefined, 'the second INVITE is offered, not answered');
        assert.equal(await shedCount(h, 'wait'), 0);
        assert.deepEqual(h.callEvents().map((e) => e.event), ['offer', 'offer']);
      }
      assert.deepEqual(byCall.get('ov-4'), [481, null], 'the in-dialog BYE is handled (no such dialog here: 481)');
    });
  }

  it('older than the longest wait on arrival at a busy ua: OPTIONS refused at once (stale); a new INVITE refused in its turn unless a call holds it; on an idle ua both are handled', async () => {
    const clock = new FakeClock();
    const calls = new GatedCallStore();
    const h = harness({ SIPNATS_MAX_CONCURRENCY: '1', SIPNATS_MAX_QUEUE_WAIT: '2s' }, { calls, clock });
    const send = (e: RequestEnvelope): void => h.messaging.deliver(`sip.req.${e.method}`, encodeJson(RequestEnvelope, e));
    const old = (raw: Buffer, o: { attempt?: number; txn?: string } = {}): RequestEnvelope => ({ ...envelope(raw, o.txn === undefined ? {} : { txn: o.txn }), receivedAt: clock.now - 2500, ...(o.attempt === undefined ? {} : { attempt: o.attempt }) });
    send(old(invite({ callId: 'st-1', fromTag: 'a1' }))); // idle ua: handled (takes the slot, waits in create)
    await settleTicks();
    send(old(req('OPTIONS', { callId: 'st-0', fromTag: 'a0' }, 1))); // nothing waits yet: handled in its turn
    send(envelope(invite({ callId: 'st-2', fromTag: 'a2' }))); // fresh: queued
    send(old(req('OPTIONS', { callId: 'st-3', fromTag: 'a3' }, 1))); // stale, requests waiting: refused now
    send(old(invite({ callId: 'st-4', fromTag: 'a4' }))); // stale INVITE: queued, refused in its turn (no call)
    assert.deepEqual(h.responses().map((r) => [r.msg.callId, r.msg.status]), [['st-3', 503]]);
    assert.equal(h.app.queue.waiting, 3);
    calls.release();
    await h.idle();
    assert.deepEqual(
      h.responses().map((r) => [r.msg.callId, r.msg.status]),
      [
        ['st-0', 200],
        ['st-4', 503],
      ],
    );
    assert.deepEqual(h.callEvents().map((e) => e.event), ['offer', 'offer'], 'st-1 and st-2');
    assert.equal(await shedCount(h, 'stale'), 2);
  });

  it('a copy of a call in progress (republished INVITE) that waited too long for a slot gets 100 Trying, not 503', async () => {
    const clock = new FakeClock();
    const calls = new GatedCallStore(false);
    const h = harness({ SIPNATS_MAX_CONCURRENCY: '1', SIPNATS_MAX_QUEUE_WAIT: '2s' }, { calls, clock });
    const first = envelope(invite({ callId: 'rp-1', fromTag: 'a1' }));
    await h.send(first);
    assert.deepEqual(h.callEvents().map((e) => e.event), ['offer']);
    // Hold the one slot with another call whose creation waits, and queue the copy behind it.
    calls.hold();
    h.messaging.deliver('sip.req.INVITE', encodeJson(RequestEnvelope, envelope(invite({ callId: 'rp-0', fromTag: 'a0' }))));
    await settleTicks();
    h.messaging.deliver('sip.req.INVITE', encodeJson(RequestEnvelope, { ...first, attempt: 2 }));
    assert.equal(h.app.queue.waiting, 1, 'the copy waits for the slot');
    clock.advance(2100);
    calls.release();
    await h.idle();
    const answers = h.responses().map((r) => [r.msg.callId, r.msg.status, r.out.txn]);
    assert.deepEqual(
      answers.filter(([c]) => c === 'rp-1'),
      [['rp-1', 100, first.txn]],
      'the live call gets 100 Trying',
    );
    assert.equal(await shedCount(h, 'wait'), 0);
  });

  it('a due call whose timer job waits for a slot is not queued again by the next sweeps', async () => {
    const clock = new FakeClock();
    const calls = new GatedCallStore(false);
    const h = harness({ SIPNATS_MAX_CONCURRENCY: '1', SIPNATS_ANSWER_TIMEOUT: '1s' }, { calls, clock });
    await h.send(envelope(invite({ callId: 'tm-1', fromTag: 'a1' })));
    assert.deepEqual(h.callEvents().map((e) => e.event), ['offer']);
    calls.hold();
    h.messaging.deliver('sip.req.INVITE', encodeJson(RequestEnvelope, envelope(invite({ callId: 'tm-0', fromTag: 'a0' })))); // holds the slot
    await settleTicks();
    clock.advance(1500); // tm-1's no-answer timer is due: its local timer (real time) queues it
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(h.app.queue.waitingIn(LANE.background), 1);
    for (let i = 0; i < 3; i++) await h.app.timers.sweep(); // each finds tm-1's mark due
    assert.equal(h.app.queue.waitingIn(LANE.background), 1, 'one firing job for the call, however many sweeps');
    calls.release();
    await h.idle();
    assert.deepEqual(
      h.responses().filter((r) => r.msg.callId === 'tm-1').map((r) => r.msg.status),
      [480],
      'the no-answer final response, once',
    );
  });
});

