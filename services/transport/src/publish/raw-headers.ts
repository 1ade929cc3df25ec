/**
 * NATS headers of the raw copies (`<p>.raw.in|out.<instance>`, proto/README.md "Raw messages").
 * Five of the six values are fixed per flow, so their bytes are made once per flow and only the
 * time is written per message. A raw copy's headers are one small object (RawHeaders) that nats.js
 * publishes as it is: `encode()` gives exactly the bytes nats.js' own header object (MsgHdrsImpl)
 * gives for the same headers in the same order (test/raw-headers.test.ts), without its
 * per-message work (a Map, key canonicalisation and a regular expression for every value).
 */
import { MsgHdrsImpl, type Match, type MsgHdrs } from '@nats-io/nats-core';
import { RAW_HEADERS, encodeToken } from '@sipnats/contracts';
import { formatHostPort } from '../listeners/address.js';
import type { Flow } from '../listeners/flow.js';

/** The per-flow constant part; share it between messages of one flow. */
export class RawFlowHeaders {
  /** Header names and values in wire order, time excluded. */
  readonly entries: ReadonlyArray<readonly [string, string]>;
  /** `NATS/1.0\r\nName: value...\r\nSipnats-Time: ` as UTF-8. */
  readonly #prefix: Buffer;

  constructor(instance: string, flow: Pick<Flow, 'transport' | 'local' | 'remote' | 'id'>) {
    this.entries = [
      [RAW_HEADERS.transport, flow.transport],
      [RAW_HEADERS.local, formatHostPort(flow.local)],
      [RAW_HEADERS.remote, formatHostPort(flow.remote)],
      [RAW_HEADERS.flow, flow.id],
      [RAW_HEADERS.instance, encodeToken(instance)],
    ];
    let s = 'NATS/1.0';
    for (const [k, v] of this.entries) s += `\r\n${k}: ${v}`;
    this.#prefix = Buffer.from(`${s}\r\n${RAW_HEADERS.time}: `, 'utf8');
  }

  /** The header block (as nats.js writes it after HPUB) for a message at `at` ms. */
  encode(at: number): Buffer {
    const time = `${at}\r\n\r\n`;
    const out = Buffer.allocUnsafe(this.#prefix.length + time.length);
    this.#prefix.copy(out, 0);
    out.write(time, this.#prefix.length, 'latin1');
    return out;
  }

  /** Name → value, time included (for tests and for ports that take a plain record). */
  record(at: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.entries) out[k] = v;
    out[RAW_HEADERS.time] = String(at);
    return out;
  }
}

/**
 * Headers of one raw copy: the flow's constant part and the time. A nats.js header object
 * (MsgHdrs) as it is: nats.js reads only `encode()` when it publishes; the name/value accessors
 * answer from a nats.js MsgHdrsImpl made on first use, so the object behaves like any MsgHdrs if
 * something else reads or changes it.
 */
export class RawHeaders implements MsgHdrs {
  readonly flow: RawFlowHeaders;
  readonly at: number;
  #full: MsgHdrsImpl | undefined;

  constructor(flow: RawFlowHeaders, at: number) {
    this.flow = flow;
    this.at = at;
  }

  encode(): Uint8Array {
    return this.#full === undefined ? this.flow.encode(this.at) : this.#full.encode();
  }

  toString(): string {
    return this.#full === undefined ? this.flow.encode(this.at).toString('utf8') : this.#full.toString();
  }

  /** The nats.js object (seen through the MsgHdrs interface), made on first use. */
  #headers(): MsgHdrs {
    if (this.#full === undefined) {
      const h = new MsgHdrsImpl();
      for (const [k, v] of Object.entries(this.flow.record(this.at))) h.set(k, v);
      this.#full = h;
    }
    return this.#full;
  }

  get hasError(): boolean {
    return this.#headers().hasError;
  }
  get status(): string {
    return this.#headers().status;
  }
  get code(): number {
    return this.#headers().code;
  }
  get description(): string {
    return this.#headers().description;
  }
  get(k: string, match?: Match): string {
    return this.#headers().get(k, match);
  }
  set(k: string, v: string, match?: Match): void {
    this.#headers().set(k, v, match);
  }
  append(k: string, v: string, match?: Match): void {
    this.#headers().append(k, v, match);
  }
  has(k: string, match?: Match): boolean {
    return this.#headers().has(k, match);
  }
  keys(): string[] {
    return this.#headers().keys();
  }
  values(k: string, match?: Match): string[] {
    return this.#headers().values(k, match);
  }
  delete(k: string, match?: Match): void {
    this.#headers().delete(k, match);
  }
  last(k: string, match?: Match): string {
    return this.#headers().last(k, match);
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.#headers()[Symbol.iterator]();
  }
}
