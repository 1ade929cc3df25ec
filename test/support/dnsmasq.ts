/**
 * dnsmasq on a loopback port (Debian dnsmasq-base) for RFC 3263 tests: authoritative for
 * `example.test`, records given as dnsmasq options, queries logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NodeDnsPort } from '../../services/ua/src/resolver/node-dns.js';
import { stopProcess } from './nats-server.js';
import { freePort } from './ports.js';

const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p));

export interface Dnsmasq {
  readonly child: ChildProcess;
  readonly port: number;
  /** Query lines dnsmasq logged so far (`query[A] name from ...`). */
  readonly queries: string[];
}

export async function startDnsmasq(records: readonly string[]): Promise<Dnsmasq> {
  if (DNSMASQ === undefined) throw new Error('dnsmasq is not installed (Debian package dnsmasq-base; scripts/bootstrap.sh installs it)');
  const port = await freePort();
  const child = spawn(
    DNSMASQ,
    [
      '--no-daemon',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--conf-file=/dev/null',
      '--pid-file=',
      '--user=',
      '--local=/example.test/',
      '--local-ttl=30',
      '--log-queries',
      '--log-facility=-',
      ...records,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const queries: string[] = [];
  let log = '';
  const onData = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    const lines = log.split('\n');
    log = lines.pop() ?? '';
    for (const line of lines) if (/query\[/.test(line)) queries.push(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const probe = new NodeDnsPort({ servers: [`127.0.0.1:${port}`], timeoutMs: 200, tries: 1 });
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited with ${child.exitCode}`);
    try {
      await probe.resolve4('probe.example.test');
      return { child, port, queries };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stopProcess(child);
  throw new Error('dnsmasq did not answer');
}
