/**
 * Flow ids. Stream flows: `<transport><listener>-<boot>-<seq>` (the boot id makes an id of a
 * previous process life unknown, hence stale, rather than pointing at an unrelated connection).
 * UDP flows: `udp<listener>/<remote>` as in proto/README.md, e.g. `udp0/192.0.2.1:5060`.
 */
import { randomBytes } from 'node:crypto';
import { parseHostPort, type HostPort } from './address.js';

export class FlowIdAllocator {
  readonly boot: string;
  #seq = 0;

  constructor(boot: string = randomBytes(4).toString('hex')) {
    this.boot = boot;
  }

  next(transport: string, listenerIndex: number): string {
    this.#seq++;
    return `${transport}${listenerIndex}-${this.boot}-${this.#seq.toString(36)}`;
  }
}

export function udpFlowId(listenerIndex: number, remote: HostPort): string {
  const host = remote.host.includes(':') ? `[${remote.host}]` : remote.host;
  return `udp${listenerIndex}/${host}:${remote.port}`;
}

/** Parses a UDP flow id; undefined when `id` is not one. */
export function parseUdpFlowId(id: string): { listener: number; remote: HostPort } | undefined {
  const m = /^udp([0-9]{1,3})\/(.+)$/.exec(id);
  if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
  try {
    const hp = parseHostPort(m[2]);
    if (hp.port === undefined || hp.port === 0) return undefined;
    return { listener: Number(m[1]), remote: { host: hp.host, port: hp.port } };
  } catch {
    return undefined;
  }
}
