/**
 * RFC 3263 resolution against a real DNS server: dnsmasq on a loopback port (Debian dnsmasq-base,
 * started here in the foreground and stopped after), queried through the production NodeDnsPort.
 */
import assert from 'node:assert/strict';
import { parseUri } from '@sipnats/sip-codec';
import { after, before, describe, it } from 'mocha';
import { NodeDnsPort } from '../../services/ua/src/resolver/node-dns.js';
import { SipResolver } from '../../services/ua/src/resolver/resolver.js';
import { stopProcess } from '../support/nats-server.js';
import { startDnsmasq, type Dnsmasq } from '../support/dnsmasq.js';

describe('resolver: RFC 3263 against dnsmasq', function () {
  this.timeout(20_000);
  let dns: Dnsmasq | undefined;

  before(async () => {
    dns = await startDnsmasq([
      '--host-record=probe.example.test,127.0.0.99',
      // SRV with two targets of different priority (listed low priority first on purpose).
      '--srv-host=_sip._udp.prio.example.test,backup.example.test,5072,20,0',
      '--srv-host=_sip._udp.prio.example.test,primary.example.test,5071,10,0',
      '--host-record=primary.example.test,127.0.0.11',
      '--host-record=backup.example.test,127.0.0.12',
      // NAPTR → SRV → A: TCP preferred by order over UDP.
      '--naptr-record=chain.example.test,20,10,S,SIP+D2U,,_sip._udp.chain.example.test',
      '--naptr-record=chain.example.test,10,10,S,SIP+D2T,,_sip._tcp.chain.example.test',
      '--srv-host=_sip._tcp.chain.example.test,edge-tcp.example.test,5080,10,0',
      '--srv-host=_sip._udp.chain.example.test,edge-udp.example.test,5090,10,0',
      '--host-record=edge-tcp.example.test,127.0.0.21,::1',
      '--host-record=edge-udp.example.test,127.0.0.22',
      '--host-record=ttl.example.test,127.0.0.31',
    ]);
  });

  after(async () => {
    if (dns !== undefined) await stopProcess(dns.child);
  });

  function resolver(clock: () => number = Date.now): SipResolver {
    const port = dns?.port ?? 0;
    return new SipResolver({ dns: new NodeDnsPort({ servers: [`127.0.0.1:${port}`], timeoutMs: 1000, tries: 1 }), clock, random: () => 0 });
  }

  it('SRV with two targets of different priority: the lower priority value first', async () => {
    const targets = await resolver().resolve(parseUri('sip:bob@prio.example.test'));
    assert.deepEqual(
      targets.map((t) => `${t.transport} ${t.host} ${t.address}:${t.port}`),
      ['udp primary.example.test 127.0.0.11:5071', 'udp backup.example.test 127.0.0.12:5072'],
    );
  });

  it('NAPTR → SRV → A/AAAA chain, NAPTR order deciding the transport', async () => {
    const targets = await resolver().resolve(parseUri('sip:chain.example.test'));
    assert.deepEqual(
      targets.map((t) => `${t.transport} ${t.address}:${t.port}`),
      ['tcp 127.0.0.21:5080', 'tcp ::1:5080', 'udp 127.0.0.22:5090'],
    );
  });

  it('honours the record TTL: cached within it, asked again after it (dnsmasq --local-ttl=30)', async () => {
    let now = 1_700_000_000_000;
    const r = resolver(() => now);
    const uri = parseUri('sip:ttl.example.test:5060');
    const count = (): number => dns?.queries.filter((q) => /query\[A\] ttl\.example\.test/.test(q)).length ?? 0;
    const before = count();
    assert.equal((await r.resolve(uri))[0]?.address, '127.0.0.31');
    await waitFor(() => count() === before + 1);
    now += 29_000;
    assert.equal((await r.resolve(uri))[0]?.address, '127.0.0.31');
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(count(), before + 1, 'answered from the cache within the 30 s TTL');
    now += 1_500;
    await r.resolve(uri);
    await waitFor(() => count() === before + 2);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
