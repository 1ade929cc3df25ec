/**
 * `sipnats hep` against a real nats-server: a full call's raw messages published on the raw subjects
 * arrive at a HEP v3 collector, one datagram per message, in order, with the right addresses, ports,
 * protocol, time, capture id, auth key, payload and correlation id. Then the real thing: sngrep
 * (`sngrep -N -L udp:127.0.0.1:PORT -O capture.pcap`) receives them and writes them to a pcap.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, stopProcess, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { ALICE, BOB, CALL, CALL_ID, LOCAL } from '../../packages/cli/test/tail-fixture.js';
import { decodeHep, publishCall, readPcap, runCli, type CliRun } from './tools-support.js';

const split = (hostPort: string): [string, number] => {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i), Number(hostPort.slice(i + 1))];
};

/** Expected source and destination of fixture message i (in: remote → local; out: local → remote). */
const ends = (i: number): [string, string] => {
  const m = CALL[i];
  if (m === undefined) throw new Error(`no message ${i}`);
  return m.direction === 'in' ? [m.remote, LOCAL] : [LOCAL, m.remote];
};

describe('integration: sipnats hep', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  let nc: NatsConnection;
  const runs: CliRun[] = [];
  let n = 0;
  const prefix = (): string => `heptest${process.pid}x${++n}`;

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  afterEach(async () => {
    await Promise.all(runs.splice(0).map((r) => r.stop('SIGKILL')));
  });
  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('forwards every message of a call to a UDP collector as HEP v3, in order, with the right chunks', async () => {
    const port = await freePort();
    const collector: Socket = createSocket('udp4');
    const got: Buffer[] = [];
    collector.on('message', (b) => got.push(b));
    await new Promise<void>((r) => collector.bind(port, '127.0.0.1', () => r()));
    try {
      const p = prefix();
      const run = runCli(['hep', '--collector', `127.0.0.1:${port}`, '--capture-id', '4242', '--stats-interval', '0'], {
        NATS_URL: nats.url,
        SIPNATS_PREFIX: p,
        HEP_PASSWORD: 's3cret',
      });
      runs.push(run);
      await run.waitStderr(/listening on/);
      const base = Date.UTC(2024, 0, 2, 3, 4, 5, 0);
      await publishCall(nc, p, { baseTime: base });
      const deadline = Date.now() + 10_000;
      while (got.length < CALL.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(got.length, CALL.length);
      got.forEach((packet, i) => {
        const c = decodeHep(packet);
        const [src, dst] = ends(i).map(split) as [[string, number], [string, number]];
        assert.equal(c.get(0x01)?.readUInt8(0), 2, 'AF_INET');
        assert.equal(c.get(0x02)?.readUInt8(0), 17, 'UDP');
        assert.equal([...(c.get(0x03) ?? [])].join('.'), src[0]);
        assert.equal([...(c.get(0x04) ?? [])].join('.'), dst[0]);
        assert.equal(c.get(0x07)?.readUInt16BE(0), src[1], `source port of message ${i}`);
        assert.equal(c.get(0x08)?.readUInt16BE(0), dst[1], `destination port of message ${i}`);
        assert.equal(c.get(0x09)?.readUInt32BE(0), Math.floor(base / 1000));
        assert.equal(c.get(0x0a)?.readUInt32BE(0), i * 1000);
        assert.equal(c.get(0x0b)?.readUInt8(0), 1, 'SIP');
        assert.equal(c.get(0x0c)?.readUInt32BE(0), 4242);
        assert.equal(c.get(0x0e)?.toString(), 's3cret');
        assert.equal(c.get(0x0f)?.toString(), CALL[i]?.text);
        assert.equal(c.get(0x11)?.toString(), CALL_ID);
      });
      assert.equal(await run.stop('SIGINT'), 0);
      assert.match(run.stderr(), /received 14, forwarded 14, dropped 0 \(queue full\), invalid 0, send errors 0, pending 0/);
    } finally {
      collector.close();
    }
  });

  it('sngrep receives the HEP stream and its pcap holds every message with the right addresses', async () => {
    if (spawnSync('sngrep', ['-V']).status !== 0) throw new Error('sngrep is not installed (apt-get install sngrep; scripts/bootstrap.sh lists it)');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'sipnats-sngrep-'));
    const pcap = join(dir, 'capture.pcap');
    const sngrep = spawn('sngrep', ['-N', '-L', `udp:127.0.0.1:${port}`, '-O', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const p = prefix();
      const run = runCli(['hep', '--collector', `127.0.0.1:${port}`], { NATS_URL: nats.url, SIPNATS_PREFIX: p });
      runs.push(run);
      await run.waitStderr(/listening on/);
      // sngrep binds its HEP socket after start-up; wait until the pcap file exists (opened at start).
      const ready = Date.now() + 5_000;
      while (!existsSync(pcap) && Date.now() < ready) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      await publishCall(nc, p);
      let packets = readPcapIfAny(pcap);
      const deadline = Date.now() + 10_000;
      while (packets.length < CALL.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        packets = readPcapIfAny(pcap);
      }
      assert.equal(packets.length, CALL.length, 'every message of the call is in the pcap');
      packets.forEach((pkt, i) => {
        const [src, dst] = ends(i).map(split) as [[string, number], [string, number]];
        assert.deepEqual([pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort], [src[0], src[1], dst[0], dst[1]], `addresses of message ${i}`);
        assert.equal(pkt.payload, CALL[i]?.text, `payload of message ${i}`);
      });
      assert.ok([ALICE, BOB].every((a) => packets.some((pkt) => `${pkt.src}:${pkt.srcPort}` === a)));
      assert.equal(await run.stop('SIGINT'), 0);
    } finally {
      await stopProcess(sngrep, 'SIGTERM', 3000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function readPcapIfAny(file: string): ReturnType<typeof readPcap> {
  if (!existsSync(file)) return [];
  const bytes = readFileSync(file);
  return bytes.length < 24 ? [] : readPcap(bytes);
}
