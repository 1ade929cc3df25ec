/**
 * End to end for the C shim: SIPp places a call at the real transport, the real ua publishes the
 * offer, the C example controller (libsipnats on libnats) answers it with an SDP through a call
 * command, SIPp gets its 200, sends ACK and BYE, and the controller sees `call.ended`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNatsServer, stopProcess, type NatsServer } from '../support/nats-server.js';
import { runSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const shimDir = fileURLToPath(new URL('../../packages/fs-shim/', import.meta.url));

interface Controller {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
}

function startController(natsUrl: string): Controller {
  const child = spawn(`${shimDir}build/sipnats_controller`, ['-s', natsUrl, '-q', 'controllers'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (b: Buffer) => {
    partial += b.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (b: Buffer) => lines.push(`stderr: ${b.toString('utf8').trimEnd()}`));
  return {
    child,
    lines,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = lines.find((l) => pattern.test(l));
          if (hit === undefined) return false;
          waiters.delete(onLine);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const onLine = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(onLine);
          reject(new Error(`controller printed no line matching ${pattern} in ${timeoutMs} ms:\n${lines.join('\n')}`));
        }, timeoutMs);
        if (!check()) waiters.add(onLine);
      });
    },
  };
}

describe('C shim end to end: SIPp → transport → ua → libsipnats controller', function () {
  this.timeout(90_000);
  let nats: NatsServer;
  let transport: TransportProcess;
  let ua: UaProcess;
  let controller: Controller | undefined;

  before(async () => {
    execFileSync('make', ['-s', '-C', shimDir, 'examples'], { stdio: 'inherit' });
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-shim', transports: ['udp'] });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-shim', env: { SIPNATS_AUTH_REQUIRED: 'false' } });
    controller = startController(nats.url);
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
