import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Registry } from 'prom-client';
import { parseProcNetUdp, readUdpKernelStats, registerUdpKernelMetrics, type UdpSocketStats } from '../src/ops/udp-kernel-stats.js';

// Two rows of /proc/net/udp as Linux prints them: port 0x13C4 = 5060 (inode 4242, rx_queue 0x300,
// 17 drops) and port 0x13C5 = 5061 (inode 999, another process's socket).
const PROC = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  '  101: 0100007F:13C4 00000000:0000 07 00000000:00000300 00:00000000 00000000     0        0 4242 2 0000000000000000 17',
  '  102: 00000000:13C5 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 999 2 0000000000000000 3',
  '  103: garbage',
  '',
].join('\n');

describe('UDP kernel statistics (/proc/net/udp)', function () {
  it('keeps only rows of our ports and our inodes, with rx_queue in bytes and drops', function () {
    assert.deepEqual(parseProcNetUdp(PROC, 4, new Set([5060, 5061]), new Set(['4242'])), [{ family: 4, port: 5060, rxQueueBytes: 0x300, drops: 17 }]);
    assert.deepEqual(parseProcNetUdp(PROC, 4, new Set([5062]), new Set(['4242', '999'])), []);
  });

  it('exposes drops and queue bytes per family and port at scrape time', async function () {
    const registry = new Registry();
    let now: UdpSocketStats[] = [{ family: 6, port: 5060, rxQueueBytes: 10, drops: 1 }];
    registerUdpKernelMetrics(registry, () => new Set([5060]), () => now);
    const text = await registry.metrics();
    assert.match(text, /sipnats_transport_udp_receive_drops_total\{family="6",port="5060"\} 1/);
    assert.match(text, /sipnats_transport_udp_receive_queue_bytes\{family="6",port="5060"\} 10/);
    now = [{ family: 6, port: 5060, rxQueueBytes: 0, drops: 5 }];
    await new Promise((r) => setImmediate(r)); // the next scrape (another HTTP request) reads again
    assert.match(await registry.metrics(), /sipnats_transport_udp_receive_drops_total\{family="6",port="5060"\} 5/);
  });

  it('finds this process\'s own bound socket on Linux', async function () {
    if (process.platform !== 'linux') this.skip();
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const port = sock.address().port;
      const rows = readUdpKernelStats(new Set([port]));
      assert.deepEqual(rows, [{ family: 4, port, rxQueueBytes: 0, drops: 0 }]);
    } finally {
      sock.close();
    }
  });
});
