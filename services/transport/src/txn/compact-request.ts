/**
 * A completed non-INVITE server transaction (RFC 3261 §17.2.2) only resends its last response
 * until Timer J (32 s on UDP) fires; it no longer needs the parsed request. Keeping every parsed
 * request that long made the heap grow with the request rate (GC pauses, ~4 KB per request), so
 * the transaction swaps it for this compact copy of the fields the layer and its users read.
 * Header lookups answer from the copied Via, From, To, Call-ID and CSeq only.
 */
import type { TxnNameAddr, TxnRequest, TxnVia } from './types.js';

function via(v: TxnVia): TxnVia {
  return { raw: v.raw, transport: v.transport, host: v.host, port: v.port, branch: v.branch };
}

function nameAddr(n: TxnNameAddr): TxnNameAddr {
  return { raw: n.raw, tag: n.tag };
}

class CompactRequest implements TxnRequest {
  readonly kind = 'request' as const;
  readonly method: string;
  readonly uri: string;
  readonly topVia: TxnVia | undefined;
  readonly from: TxnNameAddr;
  readonly to: TxnNameAddr;
  readonly callId: string;
  readonly cseq: { readonly seq: number; readonly method: string };
  readonly #vias: readonly string[];

  constructor(r: TxnRequest) {
    this.method = r.method;
    this.uri = r.uri;
    this.topVia = r.topVia === undefined ? undefined : via(r.topVia);
    this.from = nameAddr(r.from);
    this.to = nameAddr(r.to);
    this.callId = r.callId;
    this.cseq = { seq: r.cseq.seq, method: r.cseq.method };
    this.#vias = r.getHeaders('Via');
  }

  getHeader(name: string): string | undefined {
    return this.getHeaders(name)[0];
  }

  getHeaders(name: string): string[] {
    switch (name.toLowerCase()) {
      case 'via':
      case 'v':
        return [...this.#vias];
      case 'from':
      case 'f':
        return [this.from.raw];
      case 'to':
      case 't':
        return [this.to.raw];
      case 'call-id':
      case 'i':
        return [this.callId];
      case 'cseq':
        return [`${this.cseq.seq} ${this.cseq.method}`];
      default:
        return [];
    }
  }
}

/** The compact stand-in for a request whose transaction only repeats its final response now. */
export function compactRequest(r: TxnRequest): TxnRequest {
  return r instanceof CompactRequest ? r : new CompactRequest(r);
}

/**
 * `bytes` as a buffer of its own. A response kept for Timer J/H/L (up to 32 s) is often a view
 * into a shared allocation (Node's 8 KiB Buffer pool, a socket read chunk): keeping the view keeps
 * the whole allocation alive, many KiB per transaction at high rates. Copied once, exact size.
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}
