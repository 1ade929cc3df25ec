import assert from 'node:assert/strict';
import { subjects } from '@sipnats/contracts';
import type { Flow } from '../src/listeners/flow.js';
import { Histogram, Registry } from 'prom-client';
import { createMetrics, MessageCounter, statusClass, TalliedHistogram } from '../src/ops/metrics.js';
import { Publisher } from '../src/publish/publisher.js';
import { Sender } from '../src/sender.js';
import { FakeNats } from './helpers.js';

/** Value of one sample in the registry's text output (0 when absent). */
async function sample(text: Promise<string>, name: string, labels: string): Promise<number> {
  const line = (await text).split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function udpFlow(sent: Uint8Array[], ok = true): Flow {
  const local = { host: '127.0.0.1', port: 5060 };
  return {
    id: 'udp:0:192.0.2.1:5070',
    transport: 'udp',
    listener: { index: 0, transport: 'udp', local, advertised: local },
    local,
    remote: { host: '192.0.2.1', port: 5070 },
    reliable: false,
    closed: false,
    send: (data) => (sent.push(data), ok),
  };
}

describe('transport metrics: per-message counters without prom-client work per message', () => {
  it("the tallied publish-wait histogram exposes exactly what prom-client's Histogram does for the same observations, and resets", async () => {
    const buckets = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];
    const plain = new Registry();
    const tallied = new Registry();
    const reference = new Histogram({ name: 'sipnats_test_wait_seconds', help: 'Wait.', buckets, registers: [plain] });
    const fast = new TalliedHistogram({ name: 'sipnats_test_wait_seconds', help: 'Wait.', buckets, registers: [tallied] });
    assert.equal(await tallied.metrics(), await plain.metrics(), 'empty');
    for (const v of [0, 0.0001, 0.00011, 0.0007, 0.002, 0.05, 0.7, 1, 3, 42]) {
      reference.observe(v);
      fast.observe(v);
    }
    fast.observe(Number.NaN); // ignored (prom-client throws)
    assert.equal(await tallied.metrics(), await plain.metrics());
    reference.reset();
    fast.reset();
    assert.match(await tallied.metrics(), /^sipnats_test_wait_seconds_count 0$/m);
  });

  it('messages counted in plain numbers appear, summed, at each scrape', async () => {
    const m = createMetrics(false);
    const counter = new MessageCounter(m.messagesIn);
    for (let i = 0; i < 3; i++) counter.inc('udp', 'request', 'OPTIONS', '');
    counter.inc('tcp', 'response', '', '2xx');
    const name = 'sipnats_transport_messages_in_total';
    assert.equal(await sample(m.registry.metrics(), name, 'transport="udp",kind="request",method="OPTIONS",class=""'), 3);
    assert.equal(await sample(m.registry.metrics(), name, 'transport="tcp",kind="response",method="",class="2xx"'), 1);
    counter.inc('udp', 'request', 'OPTIONS', '');
    assert.equal(await sample(m.registry.metrics(), name, 'transport="udp",kind="request",method="OPTIONS",class=""'), 4, 'added once, not again');
  });

  it('the sender labels what it sends from the bytes: method (known or other) or status class', async () => {
    const m = createMetrics(false);
    const sender = new Sender('i1', subjects('sip'), new Publisher(new FakeNats(), 100, { onPublished: () => undefined, onDropped: () => undefined }), m);
    const sent: Uint8Array[] = [];
    const flow = udpFlow(sent);
    const msg = (s: string): Buffer => Buffer.from(`${s}\r\nContent-Length: 0\r\n\r\n`, 'latin1');
    assert.equal(sender.send(msg('SIP/2.0 200 OK'), flow), true);
    sender.send(msg('SIP/2.0 486 Busy Here'), flow);
    sender.send(msg('OPTIONS sip:a@b SIP/2.0'), flow);
    sender.send(msg('INFO sip:a@b SIP/2.0'), flow);
    sender.send(msg('INFOX sip:a@b SIP/2.0'), flow);
    sender.send(msg('!interesting-Method0123456789_*+`.%indeed\'~ sip:a@b SIP/2.0'), flow);
    assert.equal(sender.send(msg('BYE sip:a@b SIP/2.0'), udpFlow([], false)), false, 'a refused send is not counted as sent');
    assert.equal(sent.length, 6);
    const text = m.registry.metrics();
    const name = 'sipnats_transport_messages_out_total';
    assert.equal(await sample(text, name, 'transport="udp",kind="response",method="",class="2xx"'), 1);
    assert.equal(await sample(text, name, 'transport="udp",kind="response",method="",class="4xx"'), 1);
    assert.equal(await sample(text, name, 'transport="udp",kind="request",method="OPTIONS",class=""'), 1);
    assert.equal(await sample(text, name, 'transport="udp",kind="request",method="INFO",class=""'), 1);
    assert.equal(await sample(text, name, 'transport="udp",kind="request",method="other",class=""'), 2);
    assert.equal(await sample(text, name, 'transport="udp",kind="request",method="BYE",class=""'), 0);
    assert.equal(await sample(text, 'sipnats_transport_send_failures_total', 'reason="send-failed"'), 1);
  });

  it('open transactions are read from their source at each scrape', async () => {
    const m = createMetrics(false);
    let open = { server: 3, client: 1 };
    m.countOpenTransactions(() => open);
    assert.equal(await sample(m.registry.metrics(), 'sipnats_transport_transactions_open', 'side="server"'), 3);
    open = { server: 0, client: 2 };
    assert.equal(await sample(m.registry.metrics(), 'sipnats_transport_transactions_open', 'side="server"'), 0);
    assert.equal(await sample(m.registry.metrics(), 'sipnats_transport_transactions_open', 'side="client"'), 2);
  });

  it('status classes are constant strings', () => {
    assert.equal(statusClass(100), '1xx');
    assert.equal(statusClass(699), '6xx');
    assert.equal(statusClass(200), statusClass(299));
  });
});
