/**
 * `<p>.fwd.<instance>`: messages another instance received but that belong to this one (a
 * response to one of our client transactions). They are processed as if received here, on a
 * stand-in flow that names the receiving instance's flow and cannot send.
 */
import { decodeJson, ForwardedMessage, fromBase64 } from '@sipnats/contracts';
import { parseMessage, SipParseError } from '@sipnats/sip-codec';
import type { Context } from '../context.js';
import { parseHostPort, type HostPort, type TransportName } from '../listeners/address.js';
import type { Flow, ListenerInfo } from '../listeners/flow.js';
import type { Inbound } from '../inbound/inbound.js';
import type { PortMessage } from '../publish/nats-port.js';

function hostPort(text: string): HostPort {
  const hp = parseHostPort(text);
  return { host: hp.host, port: hp.port ?? 0 };
}

/** A flow of another instance: known by id and addresses only; sending on it is impossible. */
class RemoteFlow implements Flow {
  readonly closed = true;
  readonly reliable: boolean;
  readonly local: HostPort;
  readonly remote: HostPort;

  constructor(
    readonly id: string,
    readonly transport: TransportName,
    readonly listener: ListenerInfo,
    local: string,
    remote: string,
  ) {
    this.reliable = transport !== 'udp';
    this.local = hostPort(local);
    this.remote = hostPort(remote);
  }

  send(): boolean {
    return false;
  }
}

export class ForwardedHandler {
  readonly #ctx: Context;
  readonly #inbound: Inbound;

  constructor(ctx: Context, inbound: Inbound) {
    this.#ctx = ctx;
    this.#inbound = inbound;
  }

  readonly handle = (msg: PortMessage): void => {
    const ctx = this.#ctx;
    const decoded = decodeJson(ForwardedMessage, msg.data);
    if (!decoded.ok) {
      ctx.metrics.dropped.inc({ reason: 'bad-forwarded-message' });
      ctx.log.warn({ problems: decoded.errors }, 'invalid ForwardedMessage dropped');
      return;
    }
    const fwd = decoded.value;
    const listener = ctx.listeners.listeners.find((l) => l.info.transport === fwd.flow.transport) ?? ctx.listeners.listeners[0];
    if (listener === undefined) return;
    try {
      const bytes = fromBase64(fwd.raw);
      const message = parseMessage(bytes, { ...ctx.limits, transport: 'datagram' });
      if (message.kind !== 'response') {
        ctx.metrics.dropped.inc({ reason: 'forwarded-request' });
        return;
      }
      ctx.metrics.forwarded.inc({ direction: 'in', kind: 'response' });
      const flow = new RemoteFlow(fwd.flow.id, fwd.flow.transport, listener.info, fwd.flow.local, fwd.flow.remote);
      this.#inbound.response(message, bytes, flow, fwd.receivedAt, true);
    } catch (err) {
      ctx.metrics.dropped.inc({ reason: 'bad-forwarded-message' });
      ctx.log.warn({ from: fwd.from, err: err instanceof SipParseError ? err.code : String(err) }, 'forwarded message dropped');
    }
  };
}
