/**
 * NATS headers of the raw copies (`<p>.raw.in|out.<instance>`, proto/README.md "Raw messages").
 * Five of the six values are fixed per flow, so their text is built once per flow and only the
 * time is appended per message. `encode()` gives exactly the bytes nats.js' own header object
 * (MsgHdrsImpl) gives for the same headers in the same order (test/raw-headers.test.ts), without
 * its per-message work (a Map, key canonicalisation and a regular expression for every value).
 */
import { MsgHdrsImpl } from '@nats-io/nats-core';
import { RAW_HEADERS, encodeToken } from '@sipnats/contracts';
import { formatHostPort } from '../listeners/address.js';
import type { Flow } from '../listeners/flow.js';

/** The per-flow constant part; share it between messages of one flow. */
export class RawFlowHeaders {
  /** Header names and values in wire order, time excluded. */
  readonly entries: ReadonlyArray<readonly [string, string]>;
  /** `NATS/1.0\r\nName: value...\r\nSipnats-Time: ` */
  readonly #prefix: string;

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
    this.#prefix = `${s}\r\n${RAW_HEADERS.time}: `;
  }

  /** The header block (as nats.js writes it after HPUB) for a message at `at` ms. */
  encode(at: number): Buffer {
    return Buffer.from(`${this.#prefix}${at}\r\n\r\n`, 'utf8');
  }

  /** Name → value, time included (for tests and for ports that take a plain record). */
  record(at: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.entries) out[k] = v;
    out[RAW_HEADERS.time] = String(at);
    return out;
  }
}

/** Headers of one raw copy: the flow's constant part and the time. */
export interface RawHeaders {
  readonly flow: RawFlowHeaders;
  readonly at: number;
}

/**
 * A nats.js header object whose encoding is precomputed. nats.js reads only `encode()` when it
 * publishes; the name/value accessors answer from a map filled on first use, so the object
 * behaves like any MsgHdrs if something else reads it.
 */
export class EncodedMsgHdrs extends MsgHdrsImpl {
  readonly #raw: RawHeaders;
  #filled = false;

  constructor(raw: RawHeaders) {
    super();
    this.#raw = raw;
  }

  override encode(): Uint8Array {
    return this.#filled ? super.encode() : this.#raw.flow.encode(this.#raw.at);
  }

  override toString(): string {
    return this.#filled ? super.toString() : this.#raw.flow.encode(this.#raw.at).toString('utf8');
  }

  override keys(): string[] {
    this.#fill();
    return super.keys();
  }

  override [Symbol.iterator](): IterableIterator<[string, string[]]> {
    this.#fill();
    return super[Symbol.iterator]();
  }

  #fill(): void {
    if (this.#filled) return;
    this.#filled = true;
    for (const [k, v] of Object.entries(this.#raw.flow.record(this.#raw.at))) this.headers.set(k, [v]);
  }
}
