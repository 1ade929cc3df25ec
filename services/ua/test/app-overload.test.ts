import assert from 'node:assert/strict';
import { encodeJson, RequestEnvelope } from '@sipnats/contracts';
import { MemoryCallStore, type CallEntry } from '../src/store/call-store.js';
import { envelope, harness } from './app-harness.js';
import { invite, req, type Dlg } from './app-sip.js';
import { FakeClock } from './support/fakes.js';

/** Call creation that waits until released: the one slot stays busy while others queue. */
class GatedCallStore extends MemoryCallStore {
  #open: (() => void) | undefined;
  readonly #gate = new Promise<void>((resolve) => (this.#open = resolve));
  release(): void {
    this.#open?.();
  }
  override async create(entry: CallEntry): Promise<number | undefined> {
    await this.#gate;
    return super.create(entry);
  }
}

async function shedCount(h: ReturnType<typeof harness>, reason: string): Promise<number> {
  const m = await h.app.ctx.metrics.shed.get();
  return m.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

describe('ua app: requests that waited too long for a slot (SIPNATS_MAX_QUEUE_WAIT)', () => {
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

  it('a first publish already older than the longest wait, reaching a busy ua: 503 at once (stale); on an idle ua it is handled; a republished one is queued', async () => {
    const clock = new FakeClock();
    const calls = new GatedCallStore();
    const h = harness({ SIPNATS_MAX_CONCURRENCY: '1', SIPNATS_MAX_QUEUE_WAIT: '2s' }, { calls, clock });
    const send = (e: RequestEnvelope): void => h.messaging.deliver(`sip.req.${e.method}`, encodeJson(RequestEnvelope, e));
    const old = (raw: Buffer, attempt?: number): RequestEnvelope => ({ ...envelope(raw), receivedAt: clock.now - 2500, ...(attempt === undefined ? {} : { attempt }) });
    send(old(invite({ callId: 'st-1', fromTag: 'a1' }))); // idle ua: handled (takes the slot)
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(h.app.queue.running, 1);
    send(envelope(invite({ callId: 'st-2', fromTag: 'a2' }))); // fresh: queued
    send(old(invite({ callId: 'st-3', fromTag: 'a3' }))); // stale, ua busy: refused now
    send(old(invite({ callId: 'st-4', fromTag: 'a4' }), 2)); // republished copy: queued
    assert.equal(h.app.queue.waiting, 2);
    assert.deepEqual(h.responses().map((r) => [r.msg.callId, r.msg.status]), [['st-3', 503]]);
    assert.equal(await shedCount(h, 'stale'), 1);
    calls.release();
    await h.idle();
    assert.deepEqual(h.callEvents().map((e) => e.event), ['offer', 'offer']);
    // The republished copy, handled in its turn, is of no call: refused then (next test).
    assert.deepEqual(h.responses().map((r) => [r.msg.callId, r.msg.status]), [['st-4', 503]]);
  });

  it('a republished INVITE older than the longest wait: 503 (stale) when no call holds it, 100 Trying when its call is in progress', async () => {
    const clock = new FakeClock();
    const h = harness({ SIPNATS_MAX_QUEUE_WAIT: '2s' }, { clock });
    const stale = (raw: Buffer, attempt: number, txn?: string): RequestEnvelope => ({ ...envelope(raw, txn === undefined ? {} : { txn }), receivedAt: clock.now - 3000, attempt });
    await h.send(stale(invite({ callId: 'rp-1', fromTag: 'a1' }), 3));
    assert.deepEqual(h.responses().map((r) => [r.msg.status, r.msg.getHeader('Retry-After') ?? null]), [[503, '5']]);
    assert.deepEqual(h.callEvents(), []);
    assert.equal(await shedCount(h, 'stale'), 1);
    // A call in progress (offered, waiting for its controller), then a stale copy of its INVITE.
    const first = envelope(invite({ callId: 'rp-2', fromTag: 'a2' }));
    await h.send(first);
    assert.deepEqual(h.callEvents().map((e) => e.event), ['offer']);
    await h.send({ ...stale(invite({ callId: 'rp-2', fromTag: 'a2' }), 3, first.txn) });
    assert.deepEqual(h.responses().map((r) => [r.msg.status, r.out.txn]), [[100, first.txn]], 'the call goes on: 100 Trying, no 503');
    assert.equal(await shedCount(h, 'stale'), 1);
  });
});

