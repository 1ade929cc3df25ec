import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { subjects } from '@sipnats/contracts';
import { HepEncodeError, encodeHep3, ipv6Bytes } from '../src/hep/hep-encode.js';
import { recordToHep } from '../src/hep/hep-record.js';
import { decodeRaw } from '../src/tail/raw-record.js';
import { CALL, CALL_ID, fixtureHeaders } from './tail-fixture.js';
import type { FixtureMessage } from './tail-fixture.js';

/** Hex with spaces and comments (`# ...` to the end of the line) → bytes. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}

// Golden packets written from the HEP3/EEP chunk table (sipcapture/HEP, HEP3_Network_Protocol_Specification):
// "HEP3", uint16 total length, then chunks of vendor uint16 (0), type uint16, length uint16 (incl. 6), value.
const GOLDEN_V4 = hex(`
  48 45 50 33 00 78             # "HEP3", total length 120
  00 00 00 01 00 07 02          # 0x01 IP family: 2 (AF_INET)
  00 00 00 02 00 07 11          # 0x02 IP protocol: 17 (UDP)
  00 00 00 07 00 08 13 c5       # 0x07 source port 5061
  00 00 00 08 00 08 13 c4       # 0x08 destination port 5060
  00 00 00 09 00 0a 65 93 7d 25 # 0x09 seconds 1704164645
  00 00 00 0a 00 0a 00 0a 58 70 # 0x0a microseconds 678000
  00 00 00 0b 00 07 01          # 0x0b protocol type 1 (SIP)
  00 00 00 0c 00 0a 00 00 07 d1 # 0x0c capture agent id 2001
  00 00 00 03 00 0a 7f 00 00 01 # 0x03 IPv4 source 127.0.0.1
  00 00 00 04 00 0a 7f 00 00 02 # 0x04 IPv4 destination 127.0.0.2
  00 00 00 0e 00 08 70 77       # 0x0e auth key "pw"
  00 00 00 0f 00 0b 68 65 6c 6c 6f # 0x0f payload "hello"
  00 00 00 11 00 08 63 31       # 0x11 correlation id "c1"
`);

const GOLDEN_V6 = hex(`
  48 45 50 33 00 80             # "HEP3", total length 128
  00 00 00 01 00 07 0a          # 0x01 IP family: 10 (AF_INET6)
  00 00 00 02 00 07 06          # 0x02 IP protocol: 6 (TCP)
  00 00 00 07 00 08 13 c4       # 0x07 source port 5060
  00 00 00 08 00 08 13 c6       # 0x08 destination port 5062
  00 00 00 09 00 0a 65 93 7d 25 # 0x09 seconds 1704164645
  00 00 00 0a 00 0a 00 00 03 e8 # 0x0a microseconds 1000
  00 00 00 0b 00 07 01          # 0x0b protocol type 1 (SIP)
  00 00 00 0c 00 0a ff ff ff ff # 0x0c capture agent id 4294967295
  00 00 00 05 00 16 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 # 0x05 IPv6 source 2001:db8::1
  00 00 00 06 00 16 fe 80 00 00 00 00 00 00 00 00 00 00 00 0a 00 0b # 0x06 IPv6 destination fe80::a:b
  00 00 00 0f 00 0b 68 65 6c 6c 6f # 0x0f payload "hello"
`);

describe('hep: HEP v3 encoding', () => {
  it('IPv4/UDP with auth key and correlation id matches the golden bytes', () => {
    const bytes = encodeHep3({
      src: { ip: '127.0.0.1', port: 5061 },
      dst: { ip: '127.0.0.2', port: 5060 },
      ipProtocol: 17,
      timeMs: 1_704_164_645_678,
      captureId: 2001,
      authKey: 'pw',
      payload: Buffer.from('hello'),
      correlationId: 'c1',
    });
    assert.equal(Buffer.from(bytes).toString('hex'), GOLDEN_V4.toString('hex'));
  });

  it('IPv6/TCP without auth key or correlation id matches the golden bytes', () => {
    const bytes = encodeHep3({
      src: { ip: '2001:db8::1', port: 5060 },
      dst: { ip: 'fe80::a:b', port: 5062 },
      ipProtocol: 6,
      timeMs: 1_704_164_645_001,
      captureId: 0xffffffff,
      payload: Buffer.from('hello'),
    });
    assert.equal(Buffer.from(bytes).toString('hex'), GOLDEN_V6.toString('hex'));
  });

  it('parses every IPv6 text form to 16 octets', () => {
    const h = (ip: string): string => Buffer.from(ipv6Bytes(ip)).toString('hex');
    assert.equal(h('::'), '0'.repeat(32));
    assert.equal(h('::1'), `${'0'.repeat(30)}01`);
    assert.equal(h('1::'), `0001${'0'.repeat(28)}`);
    assert.equal(h('::ffff:1.2.3.4'), '00000000000000000000ffff01020304');
    assert.equal(h('64:ff9b::192.0.2.33'), '0064ff9b0000000000000000c0000221');
    assert.equal(h('1:2:3:4:5:6:7:8'), '00010002000300040005000600070008');
    assert.equal(h('fe80::1%eth0'), `fe80${'0'.repeat(26)}01`);
  });

  it('sends mixed families as IPv6 with the IPv4 side mapped', () => {
    const b = Buffer.from(encodeHep3({ src: { ip: '10.0.0.1', port: 1 }, dst: { ip: '::1', port: 2 }, ipProtocol: 17, timeMs: 0, captureId: 1, payload: Buffer.from('x') }));
    assert.equal(b[12], 10);
    const src = b.indexOf(Buffer.from('000000050016', 'hex'));
    assert.equal(b.subarray(src + 6, src + 22).toString('hex'), '00000000000000000000ffff0a000001');
  });

  it('refuses bad input with a HepEncodeError, never a bigger packet than 65535', () => {
    const base = { src: { ip: '127.0.0.1', port: 1 }, dst: { ip: '127.0.0.1', port: 2 }, ipProtocol: 17, timeMs: 0, captureId: 1, payload: Buffer.from('x') };
    assert.throws(() => encodeHep3({ ...base, src: { ip: 'example.com', port: 1 } }), (e: unknown) => e instanceof HepEncodeError && e.code === 'SIPNATS_ERR_HEP_ADDRESS');
    assert.throws(() => encodeHep3({ ...base, dst: { ip: '127.0.0.1', port: 70000 } }), HepEncodeError);
    assert.throws(() => encodeHep3({ ...base, captureId: -1 }), (e: unknown) => e instanceof HepEncodeError && e.code === 'SIPNATS_ERR_HEP_FIELD');
    assert.throws(() => encodeHep3({ ...base, payload: new Uint8Array(65_500) }), (e: unknown) => e instanceof HepEncodeError && e.code === 'SIPNATS_ERR_HEP_TOO_LARGE');
    assert.equal(encodeHep3({ ...base, payload: new Uint8Array(65_400) }).length, 65_400 + 6 + 7 + 7 + 8 + 8 + 10 + 10 + 7 + 10 + 10 + 10 + 6);
  });
});

describe('hep: raw message → HEP packet', () => {
  const s = subjects('sip');
  const rec = (m: FixtureMessage, headers: Record<string, string | undefined> = {}) => {
    const h: Record<string, string | undefined> = { ...fixtureHeaders(m, 1_704_164_645_678), ...headers };
    const r = decodeRaw({ subject: m.direction === 'in' ? s.rawIn('t1') : s.rawOut('t1'), data: Buffer.from(m.text), header: (n) => h[n] }, s, 0);
    if (r === undefined) throw new Error('not raw');
    return r;
  };

  it('inbound: remote → local; outbound: local → remote; Call-ID as correlation id', () => {
    const inbound = recordToHep(rec(CALL[0] as FixtureMessage), { captureId: 7, correlate: true });
    assert.notEqual(inbound, 'no-address');
    if (inbound === 'no-address') return;
    assert.deepEqual([inbound.src, inbound.dst], [{ ip: '127.0.0.1', port: 5061 }, { ip: '127.0.0.1', port: 5060 }]);
    assert.equal(inbound.correlationId, CALL_ID);
    assert.equal(inbound.ipProtocol, 17);
    const outbound = recordToHep(rec(CALL[2] as FixtureMessage, { 'Sipnats-Transport': 'wss' }), { captureId: 7, correlate: false });
    if (outbound === 'no-address') throw new Error('no address');
    assert.deepEqual([outbound.src, outbound.dst], [{ ip: '127.0.0.1', port: 5060 }, { ip: '127.0.0.1', port: 5062 }]);
    assert.equal(outbound.ipProtocol, 6);
    assert.equal(outbound.correlationId, undefined);
  });

  it('a message without address metadata cannot be described', () => {
    assert.equal(recordToHep(rec(CALL[0] as FixtureMessage, { 'Sipnats-Remote': undefined }), { captureId: 7, correlate: true }), 'no-address');
  });
});
