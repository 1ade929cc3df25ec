/**
 * Every byte the transport puts on the wire goes through here: the flow's send, the raw copy on
 * `<p>.raw.out.<instance>` (best effort, never blocking), and the messages-out counters. At
 * LOG_LEVEL=trace each message in and out is logged by its start line (never its headers, which
 * may carry credentials; a password in the Request-URI's userinfo is masked).
 */
import type { Subjects } from '@sipnats/contracts';
import type { Logger } from '@sipnats/logging';
import { formatHostPort } from './listeners/address.js';
import type { Flow } from './listeners/flow.js';
import type { TransportMetrics } from './ops/metrics.js';
import { MessageCounter, statusClass } from './ops/metrics.js';
import { RawFlowHeaders, RawHeaders } from './publish/raw-headers.js';
import { Priority, type Publisher } from './publish/publisher.js';

const SIP_VERSION_SP = Buffer.from('SIP/2.0 ', 'latin1');

/** True when serialized `bytes` are a response (`SIP/2.0 ` first). */
export function isResponse(bytes: Uint8Array): boolean {
  if (bytes.length < SIP_VERSION_SP.length) return false;
  for (let i = 0; i < SIP_VERSION_SP.length; i++) if (bytes[i] !== SIP_VERSION_SP[i]) return false;
  return true;
}

/** Status class label of serialized response bytes (`SIP/2.0 NNN`), without making a string. */
export function statusClassOf(bytes: Uint8Array): string {
  const d = (bytes[8] ?? 0) - 0x30;
  return statusClass(d >= 0 && d <= 9 ? d * 100 : 0);
}

/** Method label of serialized request bytes: a known method's constant name, else `other`. */
export function methodLabelOf(bytes: Uint8Array): string {
  const end = Math.min(bytes.length, 16);
  let sp = 0;
  while (sp < end && bytes[sp] !== 0x20) sp++;
  outer: for (const [name, code] of KNOWN_METHOD_BYTES) {
    if (code.length !== sp) continue;
    for (let i = 0; i < sp; i++) if (bytes[i] !== code[i]) continue outer;
    return name;
  }
  return 'other';
}

/** Method label for metrics: well-known methods as they are, anything else `other` (bounded). */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);
const KNOWN_METHOD_BYTES: ReadonlyArray<readonly [string, Uint8Array]> = [...KNOWN_METHODS].map((m) => [m, Buffer.from(m, 'latin1')] as const);

/** The start line of a message for a trace log line: at most 256 characters, userinfo password masked. */
export function traceStartLine(bytes: Uint8Array): string {
  const end = Math.min(bytes.length, 256);
  let s = '';
  for (let i = 0; i < end; i++) {
    const c = bytes[i] as number;
    if (c === 0x0d || c === 0x0a) break;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return s.replace(/\b(sips?:[^:@\s;]*):[^@\s]*@/gi, '$1:***@');
}

/** Raw-copy headers are kept for this many flows (keyed by remote addresses: bounded). */
const HEADER_CACHE = 4096;

export class Sender {
  readonly #instance: string;
  readonly #rawIn: string;
  readonly #rawOut: string;
  readonly #publisher: Publisher;
  readonly #metrics: TransportMetrics;
  readonly #messagesOut: MessageCounter;
  readonly #headers = new Map<string, RawFlowHeaders>();
  readonly #log: Logger | undefined;

  constructor(instance: string, subjects: Subjects, publisher: Publisher, metrics: TransportMetrics, log?: Logger) {
    this.#log = log;
    this.#instance = instance;
    this.#rawIn = subjects.rawIn(instance);
    this.#rawOut = subjects.rawOut(instance);
    this.#publisher = publisher;
    this.#metrics = metrics;
    this.#messagesOut = new MessageCounter(metrics.messagesOut);
  }

  /** The constant raw-copy headers of `flow`, built once per flow id. */
  #flowHeaders(flow: Flow): RawFlowHeaders {
    let h = this.#headers.get(flow.id);
    if (h === undefined) {
      h = new RawFlowHeaders(this.#instance, flow);
      if (this.#headers.size >= HEADER_CACHE) this.#headers.clear();
      this.#headers.set(flow.id, h);
    }
    return h;
  }

  /** Sends `bytes` on `flow`; false when the flow is closed or refused the write. */
  send(bytes: Uint8Array, flow: Flow): boolean {
    if (!flow.send(bytes)) {
      this.#metrics.sendFailures.inc({ reason: 'send-failed' });
      return false;
    }
    if (isResponse(bytes)) this.#messagesOut.inc(flow.transport, 'response', '', statusClassOf(bytes));
    else this.#messagesOut.inc(flow.transport, 'request', methodLabelOf(bytes), '');
    this.#publisher.offer(this.#rawOut, bytes, Priority.low, new RawHeaders(this.#flowHeaders(flow), Date.now()));
    if (this.#log?.isLevelEnabled('trace') === true) this.#trace('out', bytes, flow);
    return true;
  }

  /** Publishes a raw inbound copy on `<p>.raw.in.<instance>`. */
  tapIn(bytes: Uint8Array, flow: Flow, at: number): void {
    this.#publisher.offer(this.#rawIn, bytes, Priority.low, new RawHeaders(this.#flowHeaders(flow), at));
    if (this.#log?.isLevelEnabled('trace') === true) this.#trace('in', bytes, flow);
  }

  #trace(dir: 'in' | 'out', bytes: Uint8Array, flow: Flow): void {
    this.#log?.trace({ dir, transport: flow.transport, peer: formatHostPort(flow.remote), flow: flow.id, bytes: bytes.length, line: traceStartLine(bytes) }, `sip ${dir}`);
  }
}
