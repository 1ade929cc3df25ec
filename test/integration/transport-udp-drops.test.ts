/**
 * Kernel UDP drops made visible: with the transport process stopped (SIGSTOP), a burst larger than
 * its socket receive buffer overflows it; once the process runs again, /metrics reports the
 * datagrams the kernel dropped and the transport still answers.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startResponder, type Responder } from '../support/responder.js';
import { runSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';

describe('transport: kernel UDP receive drops in /metrics', function () {
  let nats: NatsServer;
  let transport: TransportProcess;
  let responder: Responder;

  before(async function () {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'drops-1', transports: ['udp'], env: { SIP_UDP_BUFFER_BYTES: '65536' } });
    responder = await startResponder({ natsUrl: nats.url });
  });

  after(async function () {
    if (transport !== undefined && transport.child.exitCode === null) transport.child.kill('SIGCONT');
    await responder?.close();
    await transport?.stop();
    await nats?.dispose();
  });

  it('counts datagrams dropped on a full receive buffer while the process was stopped', async function () {
    const port = transport.ports['udp'] as number;
    const labels = { family: '4', port: String(port) };
    assert.equal(await transport.metric('sipnats_transport_udp_receive_drops_total', labels), 0, 'no drops before the burst');

    const sock = createSocket('udp4');
    const datagram = Buffer.alloc(1200, 0x41); // not SIP: whatever survives is dropped as garbage
    transport.child.kill('SIGSTOP');
    try {
      // 4,000 × 1,200 B = 4.8 MB against a receive buffer of at most a few hundred KB.
      for (let i = 0; i < 4000; i++) {
        await new Promise<void>((resolve, reject) => sock.send(datagram, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      }
    } finally {
      transport.child.kill('SIGCONT');
      sock.close();
    }
    const drops = await transport.metric('sipnats_transport_udp_receive_drops_total', labels);
    assert.ok(drops > 0 && drops < 4000, `kernel drops reported: ${drops}`);

    const r = await runSipp({ scenario: 'uac-options.xml', remote: `127.0.0.1:${port}`, calls: 2, timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.output.slice(-2000));
  });
});
