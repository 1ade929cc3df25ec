/**
 * End to end for the C shim: SIPp places a call at the real transport, the real ua publishes the
 * offer, the C example controller (libsipnats on libnats) answers it with an SDP through a call
 * command, SIPp gets its 200, sends ACK and BYE, and the controller sees `call.ended`.
 */
import assert from 'node:assert/strict';
import { startNatsServer, stopProcess, type NatsServer } from '../support/nats-server.js';
import { runSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';
import { startShimController, type ShimController } from '../support/shim-controller.js';

describe('C shim end to end: SIPp → transport → ua → libsipnats controller', function () {
  this.timeout(90_000);
  let nats: NatsServer;
  let transport: TransportProcess;
  let ua: UaProcess;
  let controller: ShimController | undefined;

  before(async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-shim', transports: ['udp'] });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-shim', env: { SIPNATS_AUTH_REQUIRED: 'false' } });
    controller = startShimController(nats.url, ['-q', 'controllers']);
    await controller.waitFor(/^ready$/, 10_000);
  });

  after(async () => {
    if (controller !== undefined) await stopProcess(controller.child, 'SIGTERM');
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
  });

  it('the controller answers the offer through libsipnats; SIPp completes INVITE/200/ACK/BYE; the controller sees call.ended', async () => {
    const ctl = controller;
    assert.ok(ctl);
    const r = await runSipp({ scenario: 'uac-call.xml', remote: `127.0.0.1:${transport.ports['udp']}`, calls: 1, timeoutMs: 20_000 });
    assert.equal(r.code, 0, `SIPp failed:\n${r.output.slice(-3000)}\ncontroller:\n${ctl.lines.join('\n')}`);

    const offer = await ctl.waitFor(/^offer \S+ /, 5000);
    const call = offer.split(' ')[1] ?? '';
    assert.notEqual(call, '');
    await ctl.waitFor(new RegExp(`^answer ${call} ok$`), 5000);
    await ctl.waitFor(new RegExp(`^ended ${call} `), 10_000);
  });

  it('the controller drains and exits 0 on SIGTERM', async () => {
    const ctl = controller;
    assert.ok(ctl);
    assert.equal(await stopProcess(ctl.child, 'SIGTERM'), 0);
    controller = undefined;
  });
});
