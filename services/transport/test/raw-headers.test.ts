import assert from 'node:assert/strict';
import { MsgHdrsImpl } from '@nats-io/nats-core';
import { RAW_HEADERS } from '@sipnats/contracts';
import { RawFlowHeaders, RawHeaders } from '../src/publish/raw-headers.js';

const flows = [
  { transport: 'udp' as const, local: { host: '127.0.0.1', port: 5060 }, remote: { host: '192.0.2.7', port: 5062 }, id: 'udp0/192.0.2.7:5062' },
  { transport: 'tcp' as const, local: { host: '::1', port: 5060 }, remote: { host: 'fe80::1%eth0', port: 40000 }, id: 'tcp1-9f2c01aa-1k' },
];

/** nats.js' own header object with the same headers, in the same order. */
function reference(record: Record<string, string>): MsgHdrsImpl {
  const h = new MsgHdrsImpl();
  for (const [k, v] of Object.entries(record)) h.set(k, v);
  return h;
}

describe('raw-copy NATS headers (proto/README.md "Raw messages")', function () {
  it('carry the six headers with the contract values (IPv6 in brackets, instance token-encoded)', function () {
    const rec = new RawFlowHeaders('pod-1.example', flows[1] as (typeof flows)[1]).record(1_732_600_000_123);
    assert.deepEqual(rec, {
      [RAW_HEADERS.transport]: 'tcp',
      [RAW_HEADERS.local]: '[::1]:5060',
      [RAW_HEADERS.remote]: '[fe80::1%eth0]:40000',
      [RAW_HEADERS.flow]: 'tcp1-9f2c01aa-1k',
      [RAW_HEADERS.instance]: 'pod-1%2Eexample',
      [RAW_HEADERS.time]: '1732600000123',
    });
  });

  it('encode to exactly the bytes nats.js encodes for the same headers, message after message', function () {
    for (const flow of flows) {
      const fh = new RawFlowHeaders('t1', flow);
      for (const at of [0, 1, 1_732_600_000_000, 8_640_000_000_000_000]) {
        const ours = new RawHeaders(fh, at);
        const theirs = reference(fh.record(at));
        assert.deepEqual(Buffer.from(ours.encode()), Buffer.from(theirs.encode()));
        assert.equal(ours.toString(), theirs.toString());
      }
    }
  });

  it('read like any MsgHdrs, and a change after reading is encoded', function () {
    const h = new RawHeaders(new RawFlowHeaders('t1', flows[0] as (typeof flows)[0]), 42);
    assert.equal(h.get(RAW_HEADERS.time), '42');
    assert.equal(h.get(RAW_HEADERS.remote), '192.0.2.7:5062');
    assert.equal([...h].length, 6);
    h.set('X-Extra', 'yes');
    assert.match(h.toString(), /X-Extra: yes/);
    assert.match(Buffer.from(h.encode()).toString('utf8'), /Sipnats-Time: 42\r\nX-Extra: yes\r\n\r\n$/i);
  });
});
