/**
 * End to end: SIPp makes a call through the real transport process (a stand-in ua answers over
 * NATS); `sipnats tail --json`, `sipnats tail --ladder` and `sipnats hep` watch the raw subjects and
 * see the call: every message in order with the right direction, instance and addresses.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'mocha';
import { isValid, describeErrors } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { startResponder, type Responder } from '../support/responder.js';
import { runSipp } from '../support/sipp.js';
import { startTransport, TRANSPORT_MAIN, type TransportProcess } from '../support/transport-process.js';
import { TailJsonLine } from '../../packages/cli/src/tail/json-line.js';
import { decodeHep, runCli, type CliRun } from './tools-support.js';

/** The labels of a UAC call through the transport, in the order they must appear (a subsequence). */
const EXPECTED: readonly string[] = ['in INVITE', 'out 100', 'out 180', 'out 200 INVITE', 'in ACK', 'in BYE', 'out 200 BYE'];

describe('integration: tail and hep see a SIPp call through the real transport', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  let transport: TransportProcess | undefined;
  let responder: Responder | undefined;
  const runs: CliRun[] = [];

  before(async function () {
    if (!existsSync(TRANSPORT_MAIN)) throw new Error(`${TRANSPORT_MAIN} is not built (pnpm run build)`);
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tools-e2e', transports: ['udp'] });
    responder = await startResponder({ natsUrl: nats.url });
  });
  afterEach(async () => {
    await Promise.all(runs.splice(0).map((r) => r.stop('SIGKILL')));
  });
  after(async () => {
    await responder?.close();
    await transport?.stop();
    await nats?.dispose();
  });

  it('every message of the call, in order, on tail --json, tail --ladder and the HEP collector', async () => {
    const env = { NATS_URL: nats.url };
    const hepPort = await freePort();
    const collector: Socket = createSocket('udp4');
    const hep: Buffer[] = [];
    collector.on('message', (b) => hep.push(b));
    await new Promise<void>((r) => collector.bind(hepPort, '127.0.0.1', () => r()));
    try {
      const sippPort = await freePort();
      const callId = `tools-e2e-${process.pid}-1@127.0.0.1`;
      const json = runCli(['tail', '--json', '--call-id', callId], env);
      const ladder = runCli(['tail', '--ladder', callId], env);
      const forward = runCli(['hep', '--collector', `127.0.0.1:${hepPort}`, '--stats-interval', '0'], env);
      runs.push(json, ladder, forward);
      await Promise.all([json, ladder, forward].map((r) => r.waitStderr(/listening on/)));

      const udp = transport?.ports['udp'] as number;
      const sipp = await runSipp({
        scenario: 'uac-call.xml',
        remote: `127.0.0.1:${udp}`,
        localPort: sippPort,
        calls: 1,
        timeoutMs: 15_000,
        args: ['-cid_str', `tools-e2e-${process.pid}-%u@%s`],
      });
      assert.equal(sipp.code, 0, sipp.output.slice(-2000));

      assert.equal(await ladder.exited, 0, 'the ladder ends with the call');
      const lines = (await json.waitLines(EXPECTED.length)).map((t) => JSON.parse(t) as unknown);
      for (const line of lines) assert.ok(isValid(TailJsonLine, line), describeErrors(TailJsonLine, line).join('; '));
      const seen = (lines as TailJsonLine[]).map((l) => {
        assert.equal(l.instance, 'tools-e2e');
        assert.equal(l.transport, 'udp');
        assert.equal(l.remote, `127.0.0.1:${sippPort}`);
        assert.equal(l.local, `127.0.0.1:${udp}`);
        return l.kind === 'request' ? `${l.direction} ${l.method}` : `${l.direction} ${l.status}${l.status === 200 ? ` ${l.cseq?.method}` : ''}`;
      });
      let at = 0;
      for (const label of seen) if (label === EXPECTED[at]) at++;
      assert.equal(at, EXPECTED.length, `expected ${EXPECTED.join(', ')} in order; saw ${seen.join(', ')}`);

      const text = ladder.stdout();
      assert.match(text, new RegExp(`^Call-ID: ${callId.replace(/[.]/g, '\\.')} {2}\\(\\d+ messages, ended\\)\\n +127\\.0\\.0\\.1:${sippPort} +\\[tools-e2e\\]\\n`));
      for (const label of ['INVITE (udp)', '100 Trying (udp)', '180 Ringing (udp)', '200 OK (udp)', 'ACK (udp)', 'BYE (udp)']) assert.ok(text.includes(label), label);

      const deadline = Date.now() + 5_000;
      const ofCall = (): Map<number, Buffer>[] => hep.map(decodeHep).filter((c) => c.get(0x11)?.toString() === callId);
      while (ofCall().length < seen.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const packets = ofCall();
      assert.equal(packets.length, seen.length, 'the collector got each message the tail showed');
      packets.forEach((c, i) => {
        const l = lines[i] as TailJsonLine;
        const [src, dst] = l.direction === 'in' ? [sippPort, udp] : [udp, sippPort];
        assert.deepEqual([c.get(0x07)?.readUInt16BE(0), c.get(0x08)?.readUInt16BE(0)], [src, dst], `ports of message ${i}`);
        assert.equal(c.get(0x0f)?.length, l.size);
      });
    } finally {
      collector.close();
    }
  });
});
