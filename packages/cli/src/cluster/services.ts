/**
 * How the services are started, for every launcher of this repository (`sipnats up`, the local
 * cluster, the test and benchmark helpers): the built entry point under the repository root and the
 * Node.js options it runs with. The Dockerfiles' ENTRYPOINT and the bins' shebang lines carry the
 * same options (test/integration/deploy-docker.test.ts checks them against this list).
 *
 * The transport runs with `--single-threaded-gc`: its heap is small (tens of MB) and short-lived
 * garbage dominates, so V8's parallel scavenges and concurrent marking buy little, while their
 * helper threads compete for the cores with the socket loop, nats-server and the peers. Paired
 * runs of `pnpm bench:transport --only transport --rates 5000` on 2 cores: p99 at 5,000 OPTIONS/s
 * 8, 8, 8 ms with it and 12, 12, 8 ms without, the same highest clean rate (16,000/s) and CPU.
 * Node.js refuses the option in NODE_OPTIONS, so it is given on the command line. The ua keeps
 * V8's defaults: it is bound by its own CPU, and parallel GC takes work off its main thread.
 */
import { join } from 'node:path';

export interface ServiceStart {
  /** Built entry point, relative to the repository root. */
  readonly main: string;
  /** Node.js options before the script. */
  readonly nodeArgs: readonly string[];
}

export const SERVICE_START = {
  transport: { main: join('services', 'transport', 'dist', 'main.js'), nodeArgs: ['--single-threaded-gc'] },
  ua: { main: join('services', 'ua', 'dist', 'main.js'), nodeArgs: [] },
} as const satisfies Record<'transport' | 'ua', ServiceStart>;

/** Arguments of `node` that start a service from the repository at `repoRoot`. */
export function serviceArgs(start: ServiceStart, repoRoot: string): string[] {
  return [...start.nodeArgs, join(repoRoot, start.main)];
}
