/**
 * Shared harness of the txn-*.test.ts suites (a fake clock, a send that records bytes, message
 * builders parsed by the real codec), plus the tests of the manual clock itself.
 */
import assert from 'node:assert/strict';
import { parseMessage, type SipRequest, type SipResponse } from '@sipnats/sip-codec';
import { ManualClock } from '../src/txn/manual-clock.js';
import { TransactionLayer, type TransactionLayerOptions } from '../src/txn/transaction-layer.js';
import type { ClientTu, Flow, TimerValues, TxnEvent, TxnRequest, TxnResponse } from '../src/txn/types.js';

export const UDP: Flow = Object.freeze({ id: 'udp:127.0.0.1:5070', reliable: false });
export const TCP: Flow = Object.freeze({ id: 'tcp:conn-1', reliable: true });

export interface SentMessage {
  readonly at: number;
  readonly flow: string;
  readonly text: string;
  /** First line of the message. */
  readonly line: string;
}

export interface Harness {
  readonly clock: ManualClock;
  readonly layer: TransactionLayer;
  readonly sent: SentMessage[];
  readonly events: TxnEvent[];
  /** When set, the next sends throw. */
  failSends: boolean;
  eventsOf<T extends TxnEvent['type']>(type: T): Extract<TxnEvent, { type: T }>[];
}

export function harness(
  options: { sendTrying?: boolean; maxServerTxns?: number; maxClientTxns?: number; timers?: Partial<TimerValues> } = {},
): Harness {
  const clock = new ManualClock();
  const sent: SentMessage[] = [];
  const events: TxnEvent[] = [];
  const control = { failSends: false };
  const layerOptions: TransactionLayerOptions = {
    clock,
    send: (bytes: Uint8Array, flow: Flow) => {
      if (control.failSends) throw new Error('EPIPE: connection closed');
      const text = Buffer.from(bytes).toString('utf8');
      sent.push({ at: clock.now(), flow: flow.id, text, line: text.slice(0, text.indexOf('\r\n')) });
    },
    limits: { maxServerTxns: options.maxServerTxns ?? 100, maxClientTxns: options.maxClientTxns ?? 100 },
    sendTrying: options.sendTrying ?? false,
    onEvent: (e) => events.push(e),
    ...(options.timers === undefined ? {} : { timers: options.timers }),
  };
  const h: Harness = {
    clock,
    sent,
    events,
    layer: new TransactionLayer(layerOptions),
    get failSends() {
      return control.failSends;
    },
    set failSends(value: boolean) {
      control.failSends = value;
    },
    eventsOf: <T extends TxnEvent['type']>(type: T) => events.filter((e): e is Extract<TxnEvent, { type: T }> => e.type === type),
  };
  return h;
}

/** Runs every pending timer and checks that nothing is left: no leak (tables and timers empty). */
export function assertDrained(h: Harness): void {
  h.clock.runAll();
  assert.deepEqual(h.layer.size(), { server: 0, client: 0, pendingAcks: 0 });
  assert.equal(h.clock.pending, 0);
}

function crlf(lines: readonly string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

export interface RequestSpec {
  method?: string;
  uri?: string;
  branch?: string;
  viaHost?: string;
  viaTransport?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string;
  extraVias?: readonly string[];
  headers?: readonly string[];
}

export function requestText(spec: RequestSpec = {}): Buffer {
  const method = spec.method ?? 'INVITE';
  const via = `SIP/2.0/${spec.viaTransport ?? 'UDP'} ${spec.viaHost ?? '192.0.2.10:5060'}${spec.branch === '' ? '' : `;branch=${spec.branch ?? 'z9hG4bK-alpha'}`}`;
  return crlf([
    `${method} ${spec.uri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: ${via}`,
    ...(spec.extraVias ?? []).map((v) => `Via: ${v}`),
    'Max-Forwards: 70',
    `From: Alice <sip:alice@example.com>;tag=${spec.fromTag ?? 'from-1'}`,
    `To: <sip:bob@example.com>${spec.toTag === undefined ? '' : `;tag=${spec.toTag}`}`,
    `Call-ID: ${spec.callId ?? 'call-1@192.0.2.10'}`,
    `CSeq: ${spec.cseq ?? 1} ${spec.cseqMethod ?? method}`,
    ...(spec.headers ?? []),
    'Content-Length: 0',
  ]);
}

export function request(spec: RequestSpec = {}): SipRequest {
  const msg = parseMessage(requestText(spec));
  assert.equal(msg.kind, 'request');
  return msg;
}

/** A response to `req` with `status`; `toTag` added to To when given. */
export function responseTo(req: TxnRequest, status: number, toTag?: string, reason = 'Reason'): { res: SipResponse; bytes: Buffer } {
  const to = toTag === undefined || req.to.tag !== undefined ? req.to.raw : `${req.to.raw};tag=${toTag}`;
  const bytes = crlf([
    `SIP/2.0 ${status} ${reason}`,
    ...req.getHeaders('Via').map((v) => `Via: ${v}`),
    `From: ${req.from.raw}`,
    `To: ${to}`,
    `Call-ID: ${req.callId}`,
    `CSeq: ${req.cseq.seq} ${req.cseq.method}`,
    'Content-Length: 0',
  ]);
  const res = parseMessage(bytes);
  assert.equal(res.kind, 'response');
  return { res, bytes };
}

export interface RecordingTu extends ClientTu {
  readonly responses: { at: number; status: number }[];
  timeouts: number;
  readonly errors: Error[];
}

export function recordingTu(clock: ManualClock): RecordingTu {
  const tu: RecordingTu = {
    responses: [],
    timeouts: 0,
    errors: [],
    onResponse: (res: TxnResponse) => {
      tu.responses.push({ at: clock.now(), status: res.status });
    },
    onTimeout: () => {
      tu.timeouts += 1;
    },
    onTransportError: (e: Error) => {
      tu.errors.push(e);
    },
  };
  return tu;
}

describe('txn harness: ManualClock', () => {
  it('fires timers in due order, equal times in the order set, and advances now to each', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(100, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(300, () => fired.push(`c@${clock.now()}`));
    clock.advance(299);
    assert.deepEqual(fired, ['a@100']);
    clock.advance(1);
    assert.deepEqual(fired, ['a@100', 'b@300', 'c@300']);
    assert.equal(clock.now(), 300);
  });

  it('fires timers set by timers within the same advance, and cleared timers never fire', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const cleared = clock.setTimer(50, () => fired.push(-1));
    clock.setTimer(10, () => clock.setTimer(10, () => fired.push(clock.now())));
    clock.clearTimer(cleared);
    clock.advance(100);
    assert.deepEqual(fired, [20]);
    assert.equal(clock.pending, 0);
  });

  it('runAll stops a runaway loop with an error', () => {
    const clock = new ManualClock();
    const loop = (): void => {
      clock.setTimer(1, loop);
    };
    loop();
    assert.throws(() => clock.runAll(50), /more than 50 timers/);
  });

  it('the codec request type satisfies the layer message view', () => {
    const req: TxnRequest = request();
    assert.equal(req.topVia?.branch, 'z9hG4bK-alpha');
    assert.equal(req.cseq.method, 'INVITE');
  });
});
