/**
 * Helpers for the `sipnats tail` / `sipnats hep` integration tests: run the CLI as a subprocess
 * (from source through tsx, so it is never stale), publish a call's raw messages the way the
 * transport does, and read what arrives at a HEP collector or in a pcap file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@sipnats/contracts';
import { stopProcess } from '../support/nats-server.js';
import { CALL, fixtureHeaders, type FixtureMessage } from '../../packages/cli/test/tail-fixture.js';

export const CLI_BIN = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once stderr matches (rejects after timeoutMs, with the output so far). */
  waitStderr(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once stdout holds at least `n` complete lines. */
  waitLines(n: number, timeoutMs?: number): Promise<string[]>;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function runCli(args: readonly string[], env: Readonly<Record<string, string>>): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_BIN, ...args], {
    cwd: REPO,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    poke();
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString('utf8');
    poke();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(poke);
  const until = <T>(test: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const v = test();
        if (v !== undefined) {
          cleanup();
          resolve(v);
        } else if (child.exitCode !== null) {
          cleanup();
          reject(new Error(`sipnats ${args.join(' ')} exited (${child.exitCode}) before ${what}\nstdout:\n${out}\nstderr:\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitStderr: (re, timeoutMs = 15_000) => until(() => (re.test(err) ? true : undefined), `stderr ${re}`, timeoutMs).then(() => undefined),
    waitLines: (n, timeoutMs = 10_000) =>
      until(
        () => {
          const lines = out.split('\n').slice(0, -1);
          return lines.length >= n ? lines : undefined;
        },
        `${n} lines on stdout`,
        timeoutMs,
      ),
    exited,
    stop: (signal = 'SIGINT') => stopProcess(child, signal, 5000),
  };
}

/** Publishes the fixture call on the raw subjects of `prefix`, as instance `instance`, in order. */
export async function publishCall(
  nc: NatsConnection,
  prefix: string,
  o: { instance?: string; baseTime?: number; messages?: readonly FixtureMessage[] } = {},
): Promise<void> {
  const s = subjects(prefix);
  const instance = o.instance ?? 't1';
  const base = o.baseTime ?? Date.now();
  (o.messages ?? CALL).forEach((m, i) => {
    const h = headers();
    for (const [k, v] of Object.entries(fixtureHeaders(m, base + i, instance))) h.set(k, v);
    nc.publish(m.direction === 'in' ? s.rawIn(instance) : s.rawOut(instance), Buffer.from(m.text), { headers: h });
  });
  await nc.flush();
}

/** One decoded HEP v3 packet: generic chunks by type (the last one wins), as raw bytes. */
export function decodeHep(packet: Buffer): Map<number, Buffer> {
  if (packet.subarray(0, 4).toString('latin1') !== 'HEP3') throw new Error('not a HEP3 packet');
  const total = packet.readUInt16BE(4);
  if (total !== packet.length) throw new Error(`HEP length ${total} but datagram has ${packet.length} octets`);
  const chunks = new Map<number, Buffer>();
  let at = 6;
  while (at < total) {
    const vendor = packet.readUInt16BE(at);
    const type = packet.readUInt16BE(at + 2);
    const len = packet.readUInt16BE(at + 4);
    if (len < 6 || at + len > total) throw new Error(`bad chunk length ${len} at ${at}`);
    if (vendor === 0) chunks.set(type, packet.subarray(at + 6, at + len));
    at += len;
  }
  return chunks;
}

export interface PcapPacket {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: string;
}

/** Reads a classic pcap file (either byte order) of Ethernet/IPv4/UDP frames, as sngrep writes. */
export function readPcap(file: Buffer): PcapPacket[] {
  if (file.length < 24) throw new Error('pcap too short');
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`unexpected pcap link type ${linkType}`);
  const out: PcapPacket[] = [];
  let at = 24;
  while (at + 16 <= file.length) {
    const incl = u32(at + 8);
    if (at + 16 + incl > file.length) break; // a record still being written
    const frame = file.subarray(at + 16, at + 16 + incl);
    at += 16 + incl;
    if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800) continue; // not Ethernet + IPv4 + UDP
    const ip = frame.subarray(14);
    const ihl = (ip[0] ?? 0x45) & 0x0f;
    if (ip[9] !== 17) continue; // sngrep writes HEP-received SIP as UDP
    const udp = ip.subarray(ihl * 4);
    out.push({
      src: [...ip.subarray(12, 16)].join('.'),
      dst: [...ip.subarray(16, 20)].join('.'),
      srcPort: udp.readUInt16BE(0),
      dstPort: udp.readUInt16BE(2),
      payload: udp.subarray(8).toString('utf8'),
    });
  }
  return out;
}
