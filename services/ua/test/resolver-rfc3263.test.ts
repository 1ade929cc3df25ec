import assert from 'node:assert/strict';
import { parseUri } from '@sipnats/sip-codec';
import { Failover, isFailoverResponse, TargetBlacklist } from '../src/resolver/failover.js';
import { SipResolver } from '../src/resolver/resolver.js';
import { orderSrv } from '../src/resolver/srv-order.js';
import { TtlCache } from '../src/resolver/ttl-cache.js';
import { ResolverError } from '../src/resolver/errors.js';
import type { AddressRecord, DnsPort, NaptrRecord, RecordSet, SrvRecord } from '../src/resolver/types.js';
import { FakeClock } from './support/fakes.js';

/** A DNS port over fixed zones; counts queries. */
class FakeDns implements DnsPort {
  queries: string[] = [];
  naptr = new Map<string, RecordSet<NaptrRecord>>();
  srv = new Map<string, RecordSet<SrvRecord>>();
  a = new Map<string, AddressRecord[]>();
  aaaa = new Map<string, AddressRecord[]>();
  failing = new Set<string>();
  #q(name: string, type: string): void {
    this.queries.push(`${type} ${name}`);
    if (this.failing.has(name)) throw new ResolverError('UA_RESOLVER_DNS', `SERVFAIL ${name}`);
  }
  async resolveNaptr(name: string) {
    this.#q(name, 'NAPTR');
    return this.naptr.get(name) ?? { records: [], ttl: 0 };
  }
  async resolveSrv(name: string) {
    this.#q(name, 'SRV');
    return this.srv.get(name) ?? { records: [], ttl: 0 };
  }
  async resolve4(name: string) {
    this.#q(name, 'A');
    return this.a.get(name) ?? [];
  }
  async resolve6(name: string) {
    this.#q(name, 'AAAA');
    return this.aaaa.get(name) ?? [];
  }
}

/** A sequence of random numbers in [0, 1). */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

function setup(random = sequence(0)) {
  const clock = new FakeClock();
  const dns = new FakeDns();
  const resolver = new SipResolver({ dns, clock: clock.read, random, negativeTtlSeconds: 10 });
  return { clock, dns, resolver };
}

const srv = (priority: number, weight: number, port: number, name: string): SrvRecord => ({ priority, weight, port, name });

describe('resolver: RFC 2782 SRV order', () => {
  it('sorts by priority and picks by weight within one priority (seeded random)', () => {
    const records = [srv(20, 0, 5060, 'backup'), srv(10, 10, 5060, 'light'), srv(10, 90, 5060, 'heavy')];
    // sum 100: pick = floor(r * 101); r = 0.5 → 50 > 10 → heavy first.
    assert.deepEqual(orderSrv(records, sequence(0.5, 0)).map((r) => r.name), ['heavy', 'light', 'backup']);
    // r = 0.05 → 5 ≤ 10 → light first.
    assert.deepEqual(orderSrv(records, sequence(0.05, 0)).map((r) => r.name), ['light', 'heavy', 'backup']);
  });

  it('follows the weights over many draws and drops the "." target', () => {
    let state = 7;
    const lcg = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let heavyFirst = 0;
    for (let i = 0; i < 2000; i++) if (orderSrv([srv(1, 1, 1, 'a'), srv(1, 3, 1, 'b')], lcg)[0]?.name === 'b') heavyFirst++;
    // RFC 2782 draws 0..sum inclusive and takes the first running sum >= the draw: 0 and 1 pick
    // a, 2..4 pick b, so b comes first 3 times in 5.
    assert.ok(heavyFirst > 1080 && heavyFirst < 1320, `b first ${heavyFirst}/2000, expected about 3/5`);
    assert.deepEqual(orderSrv([srv(1, 0, 5060, '.')], lcg), []);
  });
});

describe('resolver: RFC 3263 §4', () => {
  it('a numeric host is used as it is, with the transport parameter or UDP/TLS defaults', async () => {
    const { resolver, dns } = setup();
    assert.deepEqual(await resolver.resolve(parseUri('sip:bob@10.0.0.1')), [{ transport: 'udp', host: '10.0.0.1', address: '10.0.0.1', port: 5060 }]);
    assert.deepEqual(await resolver.resolve(parseUri('sips:bob@[::1]:6000')), [{ transport: 'tls', host: '::1', address: '::1', port: 6000 }]);
    assert.deepEqual(await resolver.resolve(parseUri('sip:bob@10.0.0.1;transport=TCP')), [{ transport: 'tcp', host: '10.0.0.1', address: '10.0.0.1', port: 5060 }]);
    assert.deepEqual(dns.queries, []);
  });

  it('an explicit port: A/AAAA only, no NAPTR or SRV', async () => {
    const { resolver, dns } = setup();
    dns.a.set('pbx.test', [{ address: '10.0.0.5', ttl: 60 }]);
    dns.aaaa.set('pbx.test', [{ address: 'fd00::5', ttl: 60 }]);
    const t = await resolver.resolve(parseUri('sip:bob@pbx.test:5080'));
    assert.deepEqual(t.map((x) => `${x.transport} ${x.address} ${x.port}`), ['udp 10.0.0.5 5080', 'udp fd00::5 5080']);
    assert.deepEqual(dns.queries, ['A pbx.test', 'AAAA pbx.test']);
  });

  it('NAPTR → SRV → A, by NAPTR order, sips using only SIPS+D2T', async () => {
    const { resolver, dns } = setup();
    dns.naptr.set('example.test', {
      ttl: 300,
      records: [
        { order: 20, preference: 10, flags: 's', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.test' },
        { order: 10, preference: 10, flags: 'S', service: 'SIP+D2T', regexp: '', replacement: '_sip._tcp.example.test' },
        { order: 5, preference: 10, flags: 's', service: 'SIPS+D2T', regexp: '', replacement: '_sips._tcp.example.test' },
        { order: 1, preference: 10, flags: 'u', service: 'E2U+sip', regexp: '!^.*$!sip:x@y!', replacement: '' },
      ],
    });
    dns.srv.set('_sip._udp.example.test', { ttl: 300, records: [srv(10, 0, 5060, 'u.example.test')] });
    dns.srv.set('_sip._tcp.example.test', { ttl: 300, records: [srv(10, 0, 5070, 't.example.test')] });
    dns.srv.set('_sips._tcp.example.test', { ttl: 300, records: [srv(10, 0, 5061, 's.example.test')] });
    dns.a.set('u.example.test', [{ address: '10.0.0.1', ttl: 300 }]);
    dns.a.set('t.example.test', [{ address: '10.0.0.2', ttl: 300 }]);
    dns.a.set('s.example.test', [{ address: '10.0.0.3', ttl: 300 }]);
    const sip = await resolver.resolve(parseUri('sip:bob@example.test'));
    assert.deepEqual(sip.map((x) => `${x.transport} ${x.host} ${x.address}:${x.port}`), [
      'tls s.example.test 10.0.0.3:5061',
      'tcp t.example.test 10.0.0.2:5070',
      'udp u.example.test 10.0.0.1:5060',
    ]);
    const sips = await resolver.resolve(parseUri('sips:bob@example.test'));
    assert.deepEqual(sips.map((x) => x.transport), ['tls']);
  });

  it('no NAPTR: SRV per transport; no SRV either: A on 5060', async () => {
    const { resolver, dns } = setup();
    dns.srv.set('_sip._tcp.b.test', { ttl: 60, records: [srv(20, 0, 5062, 'two.b.test'), srv(10, 0, 5061, 'one.b.test')] });
    dns.a.set('one.b.test', [{ address: '10.1.0.1', ttl: 60 }]);
    dns.a.set('two.b.test', [{ address: '10.1.0.2', ttl: 60 }]);
    const t = await resolver.resolve(parseUri('sip:b.test'));
    assert.deepEqual(t.map((x) => `${x.transport} ${x.address}:${x.port}`), ['tcp 10.1.0.1:5061', 'tcp 10.1.0.2:5062']);

    dns.a.set('plain.test', [{ address: '10.2.0.1', ttl: 60 }]);
    assert.deepEqual(await resolver.resolve(parseUri('sip:plain.test')), [{ transport: 'udp', host: 'plain.test', address: '10.2.0.1', port: 5060 }]);
    dns.a.set('maddr.test', [{ address: '10.3.0.1', ttl: 60 }]);
    assert.equal((await resolver.resolve(parseUri('sip:bob@ignored.test:5099;maddr=maddr.test')))[0]?.address, '10.3.0.1');
  });

  it('caches answers for their TTL and empty answers for the negative TTL (fake clock)', async () => {
    const { resolver, dns, clock } = setup();
    dns.a.set('ttl.test', [{ address: '10.0.0.9', ttl: 5 }]);
    await resolver.resolve(parseUri('sip:ttl.test:5060'));
    const first = dns.queries.length;
    clock.advance(4_999);
    await resolver.resolve(parseUri('sip:ttl.test:5060'));
    assert.equal(dns.queries.length, first, 'served from the cache within the TTL');
    clock.advance(2);
    dns.a.set('ttl.test', [{ address: '10.0.0.10', ttl: 5 }]);
    const after = await resolver.resolve(parseUri('sip:ttl.test:5060'));
    assert.equal(after[0]?.address, '10.0.0.10');
    assert.ok(dns.queries.filter((q) => q === 'A ttl.test').length === 2);

    await resolver.resolve(parseUri('sip:none.test:5060'));
    const n = dns.queries.length;
    clock.advance(9_000);
    assert.deepEqual(await resolver.resolve(parseUri('sip:none.test:5060')), []);
    assert.equal(dns.queries.length, n, 'negative answer cached');
    clock.advance(1_001);
    await resolver.resolve(parseUri('sip:none.test:5060'));
    assert.ok(dns.queries.length > n);
  });

  it('DNS failures reject with UA_RESOLVER_DNS and are not cached; bad URIs with UA_RESOLVER_INVALID_URI', async () => {
    const { resolver, dns } = setup();
    dns.failing.add('down.test');
    await assert.rejects(resolver.resolve(parseUri('sip:down.test:5060')), (e: unknown) => e instanceof ResolverError && e.code === 'UA_RESOLVER_DNS');
    dns.failing.delete('down.test');
    dns.a.set('down.test', [{ address: '10.0.0.7', ttl: 60 }]);
    assert.equal((await resolver.resolve(parseUri('sip:down.test:5060')))[0]?.address, '10.0.0.7');
    await assert.rejects(resolver.resolve(parseUri('sips:x.test;transport=udp')), (e: unknown) => e instanceof ResolverError && e.code === 'UA_RESOLVER_INVALID_URI');
    await assert.rejects(resolver.resolve(parseUri('tel:+1234')), ResolverError);
  });

  it('the cache is a bounded LRU', () => {
    const clock = new FakeClock();
    const cache = new TtlCache<number>(2, clock.read);
    cache.set('a', 1, 1000);
    cache.set('b', 2, 1000);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3, 1000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined, 'least recently used went');
    assert.equal(cache.get('a'), 1);
  });
});

describe('resolver: failover (RFC 3263 §4.3)', () => {
  const a = { transport: 'udp', host: 'a', address: '10.0.0.1', port: 5060 } as const;
  const b = { transport: 'udp', host: 'b', address: '10.0.0.2', port: 5060 } as const;
  const c = { transport: 'tcp', host: 'c', address: '10.0.0.3', port: 5060 } as const;

  it('moves on after a timeout or 503, not after other responses, and blacklists the failed target', () => {
    const clock = new FakeClock();
    const blacklist = new TargetBlacklist({ clock: clock.read, ttlMs: 10_000 });
    const f = new Failover([a, b, c], blacklist);
    assert.equal(f.next(), a);
    assert.equal(f.report(a, { status: 408, timeout: true }), true);
    assert.equal(f.next(), b);
    assert.equal(f.report(b, { status: 486 }), false);
    assert.equal(f.report(b, { status: 503 }), true);
    assert.equal(f.next(), c);
    assert.equal(f.report(c, { status: 503 }), false, 'nothing left');
    assert.equal(f.next(), undefined);
    assert.ok(isFailoverResponse({ status: 408, local: true }));
    assert.ok(!isFailoverResponse({ status: 408 }));

    // Later requests try the healthy target first; blacklisted ones stay as a last resort.
    blacklist.add(a);
    const g = new Failover([a, b], new TargetBlacklist({ clock: clock.read }));
    assert.deepEqual(g.candidates(), [a, b]);
    const h = new Failover([a, b, c], blacklist);
    assert.deepEqual(h.candidates().map((t) => t.host), ['a', 'b', 'c'], 'every target failed: all stay, in resolver order');
    clock.advance(10_001);
    assert.equal(blacklist.has(a), false, 'the blacklist entry expires');
  });

  it('orders healthy targets before blacklisted ones', () => {
    const clock = new FakeClock();
    const blacklist = new TargetBlacklist({ clock: clock.read, ttlMs: 10_000, maxEntries: 2 });
    blacklist.add(a);
    assert.deepEqual(new Failover([a, b, c], blacklist).candidates(), [b, c, a]);
    blacklist.add(b);
    blacklist.add(c);
    assert.equal(blacklist.size, 2, 'bounded');
    assert.equal(blacklist.has(a), false, 'the oldest entry went');
  });
});
