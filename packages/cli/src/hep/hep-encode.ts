/**
 * HEP v3 (EEP, "Extensible Encapsulation Protocol", sipcapture.org) encoding of one captured SIP
 * message. Pure: bytes in, bytes out.
 *
 * Wire format (all integers big-endian):
 *   header   "HEP3" (4 octets), total length uint16 (header included)
 *   chunk    vendor id uint16 (0 = generic), type id uint16, length uint16 (the 6 header octets
 *            included), value
 * Generic chunk types used here:
 *   0x01 IP family uint8 (2 = AF_INET, 10 = AF_INET6)    0x02 IP protocol uint8 (17 UDP, 6 TCP)
 *   0x03 / 0x04 IPv4 source / destination (4 octets)     0x05 / 0x06 IPv6 src / dst (16 octets)
 *   0x07 / 0x08 source / destination port uint16         0x09 timestamp seconds uint32
 *   0x0a timestamp microseconds offset uint32            0x0b protocol type uint8 (1 = SIP)
 *   0x0c capture agent id uint32                         0x0e authentication key (octets)
 *   0x0f payload (octets)                                0x11 internal correlation id (octets)
 *
 * Chunk order: the spec allows any order, but some receivers (sngrep 1.x) read the fixed prefix
 * family, protocol, ports, timestamps, protocol type, capture id, then the addresses, the auth key
 * and the payload at fixed positions. We always write that order, and the correlation id last.
 *
 * Never: throws anything but HepEncodeError; produces a packet longer than 65535 octets.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const HEP_CHUNK = {
  ipFamily: 0x01,
  ipProtocol: 0x02,
  ipv4Src: 0x03,
  ipv4Dst: 0x04,
  ipv6Src: 0x05,
  ipv6Dst: 0x06,
  srcPort: 0x07,
  dstPort: 0x08,
  timeSec: 0x09,
  timeUsec: 0x0a,
  protocolType: 0x0b,
  captureId: 0x0c,
  authKey: 0x0e,
  payload: 0x0f,
  correlationId: 0x11,
} as const;

/** AF_INET and AF_INET6 as HEP collectors expect them (Linux values). */
export const HEP_FAMILY = { ipv4: 2, ipv6: 10 } as const;
export const HEP_IP_PROTOCOL = { udp: 17, tcp: 6 } as const;
export const HEP_PROTOCOL_TYPE_SIP = 1;
/** Largest HEP packet: the total length is a uint16. */
export const HEP_MAX_PACKET = 65_535;

export class HepEncodeError extends Error {
  readonly code: 'SIPNATS_ERR_HEP_ADDRESS' | 'SIPNATS_ERR_HEP_TOO_LARGE' | 'SIPNATS_ERR_HEP_FIELD';
  constructor(code: HepEncodeError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'HepEncodeError';
  }
}

export interface HepEndpoint {
  /** Numeric IPv4 or IPv6 address (no brackets). */
  readonly ip: string;
  readonly port: number;
}

export interface HepPacket {
  readonly src: HepEndpoint;
  readonly dst: HepEndpoint;
  /** IP protocol: 17 for UDP, 6 for stream transports (TCP, TLS, WS, WSS). */
  readonly ipProtocol: number;
  /** Capture time in ms since the epoch (may carry a fraction for sub-ms precision). */
  readonly timeMs: number;
  readonly captureId: number;
  readonly authKey?: string | undefined;
  readonly payload: Uint8Array;
  readonly correlationId?: string | undefined;
}

const utf8 = new TextEncoder();

/** 4 octets of a dotted IPv4 address. */
function ipv4Bytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split('.').map(Number));
}

/** 16 octets of an IPv6 address (`::` compression, a zone and a trailing dotted IPv4 accepted). */
export function ipv6Bytes(ip: string): Uint8Array {
  if (!isIPv6(ip)) throw new HepEncodeError('SIPNATS_ERR_HEP_ADDRESS', `not an IPv6 address: ${JSON.stringify(ip)}`);
  const zone = ip.indexOf('%');
  let text = zone >= 0 ? ip.slice(0, zone) : ip;
  let v4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    v4 = ipv4Bytes(text.slice(lastColon + 1));
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const wordCount = v4 === undefined ? 8 : 6;
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const gap = text.indexOf('::');
  let all: number[];
  if (gap >= 0) {
    const head = words(text.slice(0, gap));
    const rest = words(text.slice(gap + 2));
    all = [...head, ...new Array<number>(wordCount - head.length - rest.length).fill(0), ...rest];
  } else {
    all = words(text);
  }
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  if (v4 !== undefined) out.set(v4, 12);
  return out;
}

/** An IPv4 address as an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
function mapped(ip: string): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(ipv4Bytes(ip), 12);
  return out;
}

class ChunkWriter {
  readonly #parts: Uint8Array[] = [];
  #length = 6;

  #chunk(type: number, value: Uint8Array): void {
    const len = 6 + value.length;
    if (len > 0xffff) throw new HepEncodeError('SIPNATS_ERR_HEP_TOO_LARGE', `HEP chunk 0x${type.toString(16)} too large (${value.length} octets)`);
    const head = new Uint8Array(6);
    const v = new DataView(head.buffer);
    v.setUint16(0, 0);
    v.setUint16(2, type);
    v.setUint16(4, len);
    this.#parts.push(head, value);
    this.#length += len;
  }

  u8(type: number, n: number): void {
    this.#chunk(type, Uint8Array.of(n & 0xff));
  }

  u16(type: number, n: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, n);
    this.#chunk(type, b);
  }

  u32(type: number, n: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n >>> 0);
    this.#chunk(type, b);
  }

  bytes(type: number, b: Uint8Array): void {
    this.#chunk(type, b);
  }

  finish(): Uint8Array {
    if (this.#length > HEP_MAX_PACKET) throw new HepEncodeError('SIPNATS_ERR_HEP_TOO_LARGE', `HEP packet too large (${this.#length} octets, max ${HEP_MAX_PACKET})`);
    const out = new Uint8Array(this.#length);
    out.set([0x48, 0x45, 0x50, 0x33], 0); // "HEP3"
    new DataView(out.buffer).setUint16(4, this.#length);
    let at = 6;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function checkPort(p: number, what: string): void {
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new HepEncodeError('SIPNATS_ERR_HEP_ADDRESS', `${what} port out of range: ${p}`);
}

/** Encodes one HEP v3 packet. Mixed families are sent as IPv6 (the IPv4 side mapped). */
export function encodeHep3(p: HepPacket): Uint8Array {
  for (const [e, what] of [
    [p.src, 'source'],
    [p.dst, 'destination'],
  ] as const) {
    if (!isIPv4(e.ip) && !isIPv6(e.ip)) throw new HepEncodeError('SIPNATS_ERR_HEP_ADDRESS', `${what} is not a numeric IP address: ${JSON.stringify(e.ip)}`);
    checkPort(e.port, what);
  }
  if (!Number.isInteger(p.captureId) || p.captureId < 0 || p.captureId > 0xffffffff) {
    throw new HepEncodeError('SIPNATS_ERR_HEP_FIELD', `capture id must be an integer 0..4294967295, not ${p.captureId}`);
  }
  if (!Number.isFinite(p.timeMs) || p.timeMs < 0 || p.timeMs / 1000 > 0xffffffff) {
    throw new HepEncodeError('SIPNATS_ERR_HEP_FIELD', `timestamp out of range: ${p.timeMs}`);
  }
  const v4 = isIPv4(p.src.ip) && isIPv4(p.dst.ip);
  const w = new ChunkWriter();
  w.u8(HEP_CHUNK.ipFamily, v4 ? HEP_FAMILY.ipv4 : HEP_FAMILY.ipv6);
  w.u8(HEP_CHUNK.ipProtocol, p.ipProtocol);
  w.u16(HEP_CHUNK.srcPort, p.src.port);
  w.u16(HEP_CHUNK.dstPort, p.dst.port);
  const sec = Math.floor(p.timeMs / 1000);
  const usec = Math.min(999_999, Math.floor((p.timeMs - sec * 1000) * 1000));
  w.u32(HEP_CHUNK.timeSec, sec);
  w.u32(HEP_CHUNK.timeUsec, usec);
  w.u8(HEP_CHUNK.protocolType, HEP_PROTOCOL_TYPE_SIP);
  w.u32(HEP_CHUNK.captureId, p.captureId);
  if (v4) {
    w.bytes(HEP_CHUNK.ipv4Src, ipv4Bytes(p.src.ip));
    w.bytes(HEP_CHUNK.ipv4Dst, ipv4Bytes(p.dst.ip));
  } else {
    w.bytes(HEP_CHUNK.ipv6Src, isIPv4(p.src.ip) ? mapped(p.src.ip) : ipv6Bytes(p.src.ip));
    w.bytes(HEP_CHUNK.ipv6Dst, isIPv4(p.dst.ip) ? mapped(p.dst.ip) : ipv6Bytes(p.dst.ip));
  }
  if (p.authKey !== undefined && p.authKey.length > 0) w.bytes(HEP_CHUNK.authKey, utf8.encode(p.authKey));
  w.bytes(HEP_CHUNK.payload, p.payload);
  if (p.correlationId !== undefined && p.correlationId.length > 0) w.bytes(HEP_CHUNK.correlationId, utf8.encode(p.correlationId));
  return w.finish();
}
