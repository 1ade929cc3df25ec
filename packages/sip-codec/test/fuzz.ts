/**
 * Seeded mutation fuzzer over corpus messages, shared by the unit test and the long benchmark.
 */
import { SipParseError, StreamFramer, parseMessage, serializeMessage, type SipMessage } from '../src/index.js';

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTS = [0x0d, 0x0a, 0x3a, 0x3b, 0x22, 0x3c, 0x3e, 0x2c, 0x20, 0x5b, 0x5d, 0x3d, 0x25, 0x00];

export function mutate(src: Buffer, rnd: () => number): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(src);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(b.length + 1);
    switch (pick(6)) {
      case 0: if (b.length > 0) b[Math.min(at, b.length - 1)] = pick(256); break;
      case 1: b = b.subarray(0, at); break;
      case 2: { const len = pick(64); b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]); break; }
      case 3: b = Buffer.concat([b.subarray(0, at), Buffer.from([INSERTS[pick(INSERTS.length)] as number]), b.subarray(at)]); break;
      case 4: { const unit = b.subarray(at, at + 1 + pick(8)); b = Buffer.concat([b.subarray(0, at), Buffer.alloc(unit.length * (100 + pick(3000)), unit.length > 0 ? unit : Buffer.from(';')), b.subarray(at)]); break; }
      default: b = Buffer.concat([b.subarray(0, at), b.subarray(pick(b.length + 1))]); break;
    }
  }
  return b;
}

/** Reads every accessor; only SipParseError may come out. */
export function touch(m: SipMessage): void {
  const reads: Array<() => unknown> = [
    () => m.via, () => m.topVia, () => m.from, () => m.to, () => m.callId, () => m.cseq, () => m.maxForwards,
    () => m.contacts, () => m.contactWildcard, () => m.route, () => m.recordRoute, () => m.path, () => m.require,
    () => m.supported, () => m.allow, () => m.unsupported, () => m.proxyRequire, () => m.expires, () => m.minExpires,
    () => m.rseq, () => m.rack, () => m.sessionExpires, () => m.minSE, () => m.wwwAuthenticate, () => m.proxyAuthenticate,
    () => m.authorization, () => m.proxyAuthorization, () => m.headers(), () => (m.kind === 'request' ? m.requestUri : m.reason),
    () => serializeMessage(m), () => { m.setTopViaParams({ received: '192.0.2.1' }); return serializeMessage(m); },
  ];
  for (const read of reads) {
    try {
      read();
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
    }
  }
}

/** One fuzz case: parse as datagram and through the framer; throws on any non-SipParseError. */
export function fuzzCase(input: Buffer): void {
  try {
    touch(parseMessage(input));
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
  }
  const f = new StreamFramer();
  for (const ev of f.push(input)) if (ev.type === 'message') touch(ev.message);
}
