/**
 * What the kernel did with the UDP listeners' datagrams before Node saw them: datagrams dropped
 * because the socket's receive buffer was full (the first thing a flood overflows, and invisible
 * to every counter inside the process) and the bytes queued in that buffer now.
 *
 * Linux keeps both per socket in /proc/net/udp and /proc/net/udp6 (`rx_queue` and `drops`). A row
 * is ours when its local port is one of our UDP listeners and its inode is one of this process's
 * sockets (/proc/self/fd links `socket:[inode]`): other processes bound to the same port on another
 * address are not counted. Read at scrape time only; where /proc is absent (not Linux) the reader
 * returns nothing and the metrics stay empty.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface UdpSocketStats {
  /** 4 (/proc/net/udp) or 6 (/proc/net/udp6). */
  readonly family: 4 | 6;
  /** Local port of the socket. */
  readonly port: number;
  /** Bytes waiting in the receive buffer. */
  readonly rxQueueBytes: number;
  /** Datagrams the kernel dropped for this socket (monotonic while the socket lives). */
  readonly drops: number;
}

/**
 * Rows of a /proc/net/udp or /proc/net/udp6 text whose local port is in `ports` and whose inode
 * is in `inodes`. Malformed rows are skipped.
 */
export function parseProcNetUdp(text: string, family: 4 | 6, ports: ReadonlySet<number>, inodes: ReadonlySet<string>): UdpSocketStats[] {
  const out: UdpSocketStats[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 13) continue;
    const local = f[1]!;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (!ports.has(port) || !inodes.has(f[9]!)) continue;
    const queues = f[4]!;
    const rxQueueBytes = Number.parseInt(queues.slice(queues.indexOf(':') + 1), 16);
    const drops = Number.parseInt(f[f.length - 1]!, 10);
    if (Number.isNaN(port) || Number.isNaN(rxQueueBytes) || Number.isNaN(drops)) continue;
    out.push({ family, port, rxQueueBytes, drops });
  }
  return out;
}

/** Inodes of this process's sockets, from the `socket:[inode]` links in /proc/self/fd. */
function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
  }
  return inodes;
}

/** Reads the kernel's counters of this process's UDP sockets bound to `ports`; [] where /proc is absent. */
export function readUdpKernelStats(ports: ReadonlySet<number>): UdpSocketStats[] {
  if (ports.size === 0) return [];
  let inodes: Set<string>;
  try {
    inodes = ownSocketInodes();
  } catch {
    return [];
  }
  const out: UdpSocketStats[] = [];
  for (const [file, family] of [['/proc/net/udp', 4], ['/proc/net/udp6', 6]] as const) {
    try {
      out.push(...parseProcNetUdp(readFileSync(file, 'latin1'), family, ports, inodes));
    } catch {
      // no IPv6 or no /proc: nothing to add
    }
  }
  return out;
}

/**
 * `sipnats_transport_udp_receive_drops_total` and `sipnats_transport_udp_receive_queue_bytes`, by
 * address family and port, read from the kernel at each scrape for the ports `ports()` returns
 * (the bound UDP listeners).
 */
export function registerUdpKernelMetrics(registry: Registry, ports: () => ReadonlySet<number>, read = readUdpKernelStats): void {
  // A scrape collects every metric in the same tick: the pair shares one read of the kernel,
  // and the next scrape reads again.
  let last: UdpSocketStats[] | undefined;
  const sample = (): UdpSocketStats[] => {
    if (last === undefined) {
      last = read(ports());
      setImmediate(() => {
        last = undefined;
      });
    }
    return last;
  };
  new Counter({
    name: 'sipnats_transport_udp_receive_drops_total',
    help: 'Datagrams the kernel dropped on a UDP listener because its receive buffer was full (from /proc/net/udp).',
    labelNames: ['family', 'port'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sample()) this.inc({ family: String(s.family), port: String(s.port) }, s.drops);
    },
  });
  new Gauge({
    name: 'sipnats_transport_udp_receive_queue_bytes',
    help: 'Bytes waiting in a UDP listener\'s kernel receive buffer (from /proc/net/udp).',
    labelNames: ['family', 'port'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sample()) this.set({ family: String(s.family), port: String(s.port) }, s.rxQueueBytes);
    },
  });
}
