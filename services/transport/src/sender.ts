/**
 * Every byte the transport puts on the wire goes through here: the flow's send, the raw copy on
 * `<p>.raw.out.<instance>` (best effort, never blocking), and the messages-out counters.
 */
import type { Subjects } from '@sipnats/contracts';
import type { Flow } from './listeners/flow.js';
import type { TransportMetrics } from './ops/metrics.js';
import { statusClass } from './ops/metrics.js';
import { rawHeaders } from './publish/envelopes.js';
import { Priority, type Publisher } from './publish/publisher.js';

export interface StartLine {
  readonly kind: 'request' | 'response';
  readonly method: string;
  readonly status: number;
}

/** Reads the start line of serialized bytes (requests: method; responses: status). */
export function startLine(bytes: Uint8Array): StartLine {
  const end = Math.min(bytes.length, 64);
  let s = '';
  for (let i = 0; i < end; i++) {
    const c = bytes[i] as number;
    if (c === 0x0d || c === 0x0a) break;
    s += String.fromCharCode(c);
  }
  if (s.startsWith('SIP/2.0 ')) return { kind: 'response', method: '', status: Number(s.slice(8, 11)) || 0 };
  const sp = s.indexOf(' ');
  return { kind: 'request', method: sp > 0 ? s.slice(0, sp) : s, status: 0 };
}

/** Method label for metrics: well-known methods as they are, anything else `other` (bounded). */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);

export class Sender {
  readonly #instance: string;
  readonly #subjects: Subjects;
  readonly #publisher: Publisher;
  readonly #metrics: TransportMetrics;

  constructor(instance: string, subjects: Subjects, publisher: Publisher, metrics: TransportMetrics) {
    this.#instance = instance;
    this.#subjects = subjects;
    this.#publisher = publisher;
    this.#metrics = metrics;
  }

  /** Sends `bytes` on `flow`; false when the flow is closed or refused the write. */
  send(bytes: Uint8Array, flow: Flow): boolean {
    const ok = flow.send(bytes);
    const sl = startLine(bytes);
    if (!ok) {
      this.#metrics.sendFailures.inc({ reason: 'send-failed' });
      return false;
    }
    this.#metrics.messagesOut.inc({
      transport: flow.transport,
      kind: sl.kind,
      method: sl.kind === 'request' ? methodLabel(sl.method) : '',
      class: sl.kind === 'response' ? statusClass(sl.status) : '',
    });
    this.#publisher.offer(this.#subjects.rawOut(this.#instance), bytes, Priority.low, rawHeaders(this.#instance, flow, Date.now()));
    return true;
  }

  /** Publishes a raw inbound copy on `<p>.raw.in.<instance>`. */
  tapIn(bytes: Uint8Array, flow: Flow, at: number): void {
    this.#publisher.offer(this.#subjects.rawIn(this.#instance), bytes, Priority.low, rawHeaders(this.#instance, flow, at));
  }
}
