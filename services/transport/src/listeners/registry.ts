/**
 * All listeners of the process and the flows they hold: resolves a flow id to a live flow, picks a
 * listener for a transport and address family, and counts connections.
 */
import { isIP } from 'node:net';
import type { HostPort, TransportName } from './address.js';
import type { Flow, Listener } from './flow.js';
import { parseUdpFlowId } from './flow-ids.js';
import { StreamListener } from './stream-listener.js';
import { UdpListener } from './udp.js';
import { WsListener } from './ws.js';

export class ListenerRegistry {
  readonly listeners: readonly Listener[];

  constructor(listeners: readonly Listener[]) {
    this.listeners = listeners;
  }

  /** A live flow by id; undefined when the connection is gone or the id is not ours. */
  flow(id: string): Flow | undefined {
    const udp = parseUdpFlowId(id);
    if (udp !== undefined) {
      const l = this.listeners.find((x) => x.info.index === udp.listener);
      return l instanceof UdpListener ? l.flowTo(udp.remote) : undefined;
    }
    const m = /^(tcp|tls|ws|wss)([0-9]{1,3})-/.exec(id);
    if (m === null) return undefined;
    const l = this.listeners.find((x) => x.info.index === Number(m[2]));
    if (l instanceof StreamListener || l instanceof WsListener) {
      const f = l.flow(id);
      return f !== undefined && !f.closed ? f : undefined;
    }
    return undefined;
  }

  /** The first listener of `transport` whose address family can reach `host`. */
  listenerFor(transport: TransportName, host: string): Listener | undefined {
    const family = isIP(host) === 6 ? 6 : 4;
    return (
      this.listeners.find((l) => l.info.transport === transport && (isIP(l.info.local.host) === 6 ? 6 : 4) === family) ??
      this.listeners.find((l) => l.info.transport === transport)
    );
  }

  /** A flow to `remote` over `transport` (reusing a connection when one exists). */
  flowTo(transport: TransportName, remote: HostPort): Flow | undefined {
    return this.listenerFor(transport, remote.host)?.flowTo(remote);
  }

  /** True when `host:port` is one of our bound or advertised addresses. */
  isOwnAddress(host: string, port: number | undefined): boolean {
    const h = host.toLowerCase();
    return this.listeners.some((l) => {
      const adv = l.info.advertised;
      const loc = l.info.local;
      const p = port ?? (l.info.transport === 'tls' || l.info.transport === 'wss' ? 5061 : 5060);
      return (adv.host.toLowerCase() === h && adv.port === p) || (loc.host === h && loc.port === p);
    });
  }

  connectionsByTransport(): Map<TransportName, number> {
    const out = new Map<TransportName, number>();
    for (const l of this.listeners) out.set(l.info.transport, (out.get(l.info.transport) ?? 0) + l.connections);
    return out;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close()));
  }

  /** Closes stream and WebSocket connections gracefully (draining). */
  endConnections(detail: string): void {
    for (const l of this.listeners) if (l instanceof StreamListener || l instanceof WsListener) l.endAll(detail);
  }

  /** Open connections of every listener. */
  get connections(): number {
    let n = 0;
    for (const l of this.listeners) n += l.connections;
    return n;
  }
}
