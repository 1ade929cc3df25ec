/**
 * Differential tests of the fast paths (top Via, From/To tag, Call-ID, CSeq, byte host check)
 * against the general parsers: on every corpus message and on seeded mutations, whenever a fast
 * path accepts a value the general parser must accept it too and give the same values, and the
 * eager byte checks (which the fast path replaces in parseMessage) must accept it as well.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SipParseError, parseMessage, serializeMessage, uriTextOf, type NameAddr, type SipMessage, type Via } from '../src/index.js';
import { checkNameAddr, checkTopVia } from '../src/check.js';
import { fastNameAddr } from '../src/fast-name-addr.js';
import { fastTopVia } from '../src/fast-via.js';
import { hostKindCode } from '../src/host.js';
import { MessageImpl } from '../src/message.js';
import { parseCSeq } from '../src/header-values.js';
import { parseNameAddr } from '../src/name-addr.js';
import { splitCommas } from '../src/scan.js';
import { hostKindOf } from '../src/uri.js';
import { parseVia } from '../src/via.js';
import { CORPUS_DIR } from './corpus.js';
import { mutate, prng } from './fuzz.js';

function corpus(): Buffer[] {
  const out: Buffer[] = [];
  for (const set of ['rfc4475', 'rfc5118']) {
    const dir = join(CORPUS_DIR, set);
    for (const f of readdirSync(dir)) if (f.endsWith('.dat')) out.push(readFileSync(join(dir, f)));
  }
  return out;
}

function attempt<T>(f: () => T): T | SipParseError {
  try {
    return f();
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
}

function sameVia(fast: Via, general: Via): void {
  for (const k of ['raw', 'protocol', 'transport', 'host', 'hostKind', 'port', 'branch', 'received', 'rport'] as const) {
    assert.equal(fast[k], general[k], `Via.${k} of "${general.raw}"`);
  }
  assert.deepEqual([...fast.params], [...general.params]);
}

function sameNameAddr(fast: NameAddr, general: NameAddr): void {
  for (const k of ['raw', 'displayName', 'tag'] as const) assert.equal(fast[k], general[k], `NameAddr.${k} of "${general.raw}"`);
  assert.equal(uriTextOf(fast), general.uri.raw, `URI text of "${general.raw}"`);
  assert.deepEqual(fast.uri, general.uri);
  assert.deepEqual([...fast.params], [...general.params]);
}

/** The fast Via path on one value: when it accepts, the general parser and the check agree. */
function viaAgrees(value: Buffer): boolean {
  const fast = fastTopVia(value, 0, value.length);
  if (fast === undefined) return false;
  const general = attempt(() => parseVia(splitCommas(value.toString('utf8'))[0] ?? ''));
  assert.ok(!(general instanceof SipParseError), `fast path accepted a Via the general parser rejects: ${JSON.stringify(value.toString('latin1'))} (${String(general)})`);
  sameVia(fast, general);
  assert.ok(checkTopVia(value, 0, value.length), `fast path accepted a Via the eager check rejects: ${value.toString('latin1')}`);
  return true;
}

function nameAddrAgrees(value: Buffer): boolean {
  const fast = fastNameAddr(value, 0, value.length);
  if (fast === undefined) return false;
  const general = attempt(() => parseNameAddr(value.toString('utf8')));
  assert.ok(!(general instanceof SipParseError), `fast path accepted an address the general parser rejects: ${JSON.stringify(value.toString('latin1'))} (${String(general)})`);
  sameNameAddr(fast, general);
  assert.ok(checkNameAddr(value, 0, value.length), `fast path accepted an address the eager check rejects: ${value.toString('latin1')}`);
  return true;
}

/** A parsed message's transport fields equal what the general parsers make of its header text. */
function accessorsAgree(m: SipMessage): void {
  const via = m.getHeader('Via');
  if (via !== undefined) {
    const general = attempt(() => parseVia(splitCommas(via)[0] ?? ''));
    const fast = attempt(() => m.topVia);
    if (general instanceof SipParseError) assert.ok(fast instanceof SipParseError && fast.code === general.code);
    else if (fast instanceof SipParseError) assert.fail(`topVia threw ${fast.code} where parseVia did not`);
    else sameVia(fast, general);
  }
  for (const [name, read] of [['From', () => m.from], ['To', () => m.to]] as const) {
    const v = m.getHeader(name);
    if (v === undefined) continue;
    const general = attempt(() => parseNameAddr(v));
    const fast = attempt(read);
    if (general instanceof SipParseError) assert.ok(fast instanceof SipParseError && fast.code === general.code);
    else if (fast instanceof SipParseError) assert.fail(`${name} threw ${fast.code} where parseNameAddr did not`);
    else sameNameAddr(fast, general);
  }
  assert.equal(m.callId, m.getHeader('Call-ID'));
  const cseq = attempt(() => ({ ...m.cseq }));
  const general = attempt(() => parseCSeq(m.getHeader('CSeq') ?? ''));
  if (general instanceof SipParseError) assert.ok(cseq instanceof SipParseError && cseq.code === general.code);
  else assert.deepEqual(cseq, general);
}

const VALUE_BYTES = Buffer.from(';=,<>"[]:@ \t\\?%.-_0123456789abcdefABCDEFxyzXYZ\u00e9\u0000', 'latin1');

function mutateValue(src: Buffer, rnd: () => number): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(src);
  for (let r = 1 + pick(3); r > 0; r--) {
    const at = pick(b.length + 1);
    const c = Buffer.from([VALUE_BYTES[pick(VALUE_BYTES.length)] as number]);
    switch (pick(4)) {
      case 0: if (b.length > 0) b[Math.min(at, b.length - 1)] = c[0] as number; break;
      case 1: b = Buffer.concat([b.subarray(0, at), c, b.subarray(at)]); break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(4))]); break;
      default: b = Buffer.concat([b.subarray(0, at), b.subarray(pick(b.length), pick(b.length + 1)), b.subarray(at)]); break;
    }
  }
  return b;
}

const VIAS = [
  'SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
  'SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKx;received=192.0.2.9;rport=5062, SIP/2.0/UDP h2',
  'SIP/2.0/TLS [2001:db8::9:1]:5061;Branch=z9hG4bK1;RPORT;maddr=[::1];ttl=1',
  'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK;x=a=b;branch=other',
];
const ADDRS = [
  'Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  '"Bob B." <sips:bob:pw@[2001:db8::10]:5061;transport=tcp;lr>;TAG=a6c85cf;x',
  'sip:carol@192.0.2.4:5060;tag=1;tag=2',
  '<sip:user;par=u%40example.net@example.com>;tag;expires=10',
  'A  B <sip:h.example.com>',
  '"Q \\"x\\" y" <sip:q@example.com>;tag=9',
  'Tok \t <sip:t@192.0.2.1:5070;transport=udp>',
  '"" <sip:e@example.com>',
];

describe('sip-codec: fast paths agree with the general parsers', () => {
  it('on every corpus message: topVia, From, To, Call-ID and CSeq equal the general parse', () => {
    let parsed = 0;
    for (const bytes of corpus()) {
      const m = attempt(() => parseMessage(bytes));
      if (m instanceof SipParseError) continue;
      parsed++;
      accessorsAgree(m);
    }
    assert.ok(parsed >= 40, `only ${parsed} corpus messages parsed`);
  });

  it('the fast path takes the common shapes (so the benchmark measures it)', () => {
    for (const v of VIAS) assert.ok(viaAgrees(Buffer.from(v)), v);
    for (const a of ADDRS) assert.ok(nameAddrAgrees(Buffer.from(a)), a);
  });

  it('20,000 mutated Via and From/To values: whatever the fast path accepts, parser and check accept alike', () => {
    const rnd = prng(0xfa57);
    let viaFast = 0;
    let addrFast = 0;
    for (let i = 0; i < 10000; i++) {
      if (viaAgrees(mutateValue(Buffer.from(VIAS[i % VIAS.length] as string, 'latin1'), rnd))) viaFast++;
      if (nameAddrAgrees(mutateValue(Buffer.from(ADDRS[i % ADDRS.length] as string, 'latin1'), rnd))) addrFast++;
    }
    // Both outcomes must occur for the comparison to mean something.
    assert.ok(viaFast > 500 && viaFast < 9500, `fast Via taken ${viaFast} times`);
    assert.ok(addrFast > 500 && addrFast < 9500, `fast address taken ${addrFast} times`);
  });

  it('2,000 mutated corpus messages: accessors equal the general parse, edits still round-trip', () => {
    const files = corpus();
    const rnd = prng(0xd1ff);
    for (let i = 0; i < 2000; i++) {
      const m = attempt(() => parseMessage(mutate(files[i % files.length] as Buffer, rnd)));
      if (m instanceof SipParseError) continue;
      accessorsAgree(m);
      const top = attempt(() => m.topVia);
      if (top instanceof SipParseError) continue;
      m.setTopViaParams({ received: '192.0.2.1' });
      assert.equal(m.topVia.received, '192.0.2.1');
      assert.equal(parseMessage(serializeMessage(m)).topVia.received, '192.0.2.1');
    }
  });

  it("8,000 Via stamps (received, rport) on mutated Via lines: the patched line equals the general edit's, bytes and values", () => {
    const rnd = prng(0x57a3);
    const stamps: Array<Record<string, string | number | null>> = [
      { received: '192.0.2.1' },
      { received: '2001:db8::7', rport: 40000 },
      { rport: 5060, received: '198.51.100.2' },
      { rport: null },
      { received: 'a"b' },
    ];
    let patched = 0;
    for (let i = 0; i < 8000; i++) {
      const via = mutateValue(Buffer.from(VIAS[i % VIAS.length] as string, 'latin1'), rnd);
      const text = Buffer.concat([Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: '), via, Buffer.from('\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n')]);
      const fast = attempt(() => parseMessage(text));
      if (fast instanceof SipParseError) continue;
      const general = parseMessage(text);
      general.removeHeader('X-None'); // an entry list: setTopViaParams then takes the general way
      const stamp = stamps[i % stamps.length] as Record<string, string | number | null>;
      const a = attempt(() => (fast.setTopViaParams(stamp), serializeMessage(fast)));
      const b = attempt(() => (general.setTopViaParams(stamp), serializeMessage(general)));
      if (b instanceof SipParseError) {
        assert.ok(a instanceof SipParseError && a.code === b.code, `stamp of ${JSON.stringify(via.toString('latin1'))}: ${String(a)}`);
        continue;
      }
      assert.ok(!(a instanceof SipParseError), String(a));
      assert.equal(Buffer.from(a).toString('latin1'), Buffer.from(b).toString('latin1'));
      if (fast instanceof MessageImpl && fast.editedEntries === null) patched++;
      const back = attempt(() => parseMessage(a).topVia);
      const read = attempt(() => fast.topVia);
      if (back instanceof SipParseError) assert.ok(read instanceof SipParseError || read.raw !== undefined);
      else {
        assert.ok(!(read instanceof SipParseError), `topVia after the stamp threw where the serialized message reads: ${String(read)}`);
        sameVia(read, back);
      }
      const list = (m: SipMessage): string[] | string => {
        const r = attempt(() => m.via.map((v) => v.raw));
        return r instanceof SipParseError ? r.code : r;
      };
      assert.deepEqual(list(fast), list(general));
      assert.equal(fast.getHeader('Via'), general.getHeader('Via'));
      accessorsAgree(fast);
    }
    assert.ok(patched > 1200, `the patched line was taken ${patched} times`);
  });

  it('a stamped datagram without Content-Length or without the empty line serializes as the general edit does', () => {
    for (const tail of ['Content-Length: 0\r\n\r\n', '\r\n', 'Content-Length: 0\r\n', 'Content-Length: 4\r\n\r\nbody']) {
      const text = Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n${tail}`);
      const fast = parseMessage(text);
      const general = parseMessage(text);
      general.removeHeader('X-None');
      fast.setTopViaParams({ received: '192.0.2.1', rport: 9 });
      general.setTopViaParams({ received: '192.0.2.1', rport: 9 });
      assert.equal(Buffer.from(serializeMessage(fast)).toString('latin1'), Buffer.from(serializeMessage(general)).toString('latin1'), JSON.stringify(tail));
    }
  });

  it('a second stamp, then a header edit, after a patched Via line keep every change', () => {
    const m = parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport\r\nf: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\ni: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n'));
    m.setTopViaParams({ received: '192.0.2.1', rport: 1234 });
    assert.ok(m instanceof MessageImpl && m.editedEntries === null, 'only the Via line was replaced');
    assert.equal(m.topVia.rport, 1234);
    assert.equal(m.topVia.received, '192.0.2.1');
    assert.equal(m.from.tag, '1');
    m.setTopViaParams({ received: '192.0.2.2' });
    m.addHeader('Record-Route', '<sip:p;lr>', true);
    const text = Buffer.from(serializeMessage(m)).toString('latin1');
    assert.equal(text, 'OPTIONS sip:a@b SIP/2.0\r\nRecord-Route: <sip:p;lr>\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport=1234;received=192.0.2.2\r\nf: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\ni: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n');
    assert.equal(m.topVia.received, '192.0.2.2');
  });

  it('hostKindCode on bytes agrees with hostKindOf on 20,000 mutated hosts', () => {
    const kinds = [undefined, 'ipv4', 'ipv6', 'domain'];
    const rnd = prng(0x4057);
    const hosts = ['192.0.2.1', '255.255.255.255', '[2001:db8::1]', '[::ffff:192.0.2.1]', 'a-b_c.example.com', '1.2.3', '256.1.1.1'];
    for (let i = 0; i < 20000; i++) {
      const h = mutateValue(Buffer.from(hosts[i % hosts.length] as string), rnd);
      assert.equal(kinds[hostKindCode(h, 0, h.length) + 1], hostKindOf(h.toString('latin1')), h.toString('latin1'));
    }
  });
});
