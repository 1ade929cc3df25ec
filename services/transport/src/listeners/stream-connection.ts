/**
 * One TCP or TLS connection (RFC 3261 §18.3): bytes are cut into messages by the codec's stream
 * framer (Content-Length framing), a CRLFCRLF keep-alive ping is answered with a CRLF pong
 * (RFC 5626 §3.5.1). The connection is closed when it stays idle, when a message stays
 * incomplete too long (slow senders), when framing fails, or when the peer does not read what
 * we write (bounded write buffer).
 */
import type { Socket } from 'node:net';
import type { HostPort, TransportName } from './address.js';
import type { FlowCloseReason } from '@sipnats/contracts';
import type { CloseCause, Flow, FlowClosedHandler, InboundHandler, ListenerInfo } from './flow.js';
import { StreamFramer, type SipParseError } from '@sipnats/sip-codec';

export interface StreamLimits {
  readonly maxMessageBytes: number;
  readonly maxHeaders: number;
  readonly maxLineBytes: number;
  /** Close after this long without any byte in or out. */
  readonly idleTimeoutMs: number;
  /** Bytes queued for writing beyond which the peer is considered stuck and dropped. */
  readonly maxWriteBufferBytes: number;
}

export interface StreamEvents {
  readonly onMessage: InboundHandler;
  /** A framing error; the connection is closed right after. */
  readonly onFramingError: (flow: Flow, error: SipParseError) => void;
  readonly onClose: FlowClosedHandler;
}

const PONG = Buffer.from('\r\n');

export class StreamConnection implements Flow {
  readonly id: string;
  readonly transport: TransportName;
  readonly listener: ListenerInfo;
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly reliable = true;
  readonly #socket: Socket;
  readonly #framer: StreamFramer;
  readonly #limits: StreamLimits;
  readonly #events: StreamEvents;
  #closed = false;
  #partialSince = 0;
  /** Set when we close (or the socket fails); a close without it is the peer's. */
  #cause: CloseCause | undefined;

  constructor(
    id: string,
    transport: TransportName,
    listener: ListenerInfo,
    socket: Socket,
    remote: HostPort,
    limits: StreamLimits,
    events: StreamEvents,
  ) {
    this.id = id;
    this.transport = transport;
    this.listener = listener;
    this.local = listener.local;
    this.remote = remote;
    this.#socket = socket;
    this.#limits = limits;
    this.#events = events;
    this.#framer = new StreamFramer({
      maxMessageBytes: limits.maxMessageBytes,
      maxHeaders: limits.maxHeaders,
      maxLineBytes: limits.maxLineBytes,
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, Math.max(1000, Math.floor(limits.idleTimeoutMs / 2)));
    socket.setTimeout(limits.idleTimeoutMs, () => this.destroy('idle', 'idle timeout'));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.#cause ??= { reason: 'error', detail: `socket error: ${err.message}` };
    });
    socket.on('close', () => {
      if (this.#closed) return;
      this.#closed = true;
      const cause = this.#cause ?? { reason: 'peer', detail: 'peer closed' };
      this.#events.onClose(this, cause.reason, cause.detail);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    const now = Date.now();
    for (const ev of this.#framer.push(chunk)) {
      if (this.#closed) return;
      switch (ev.type) {
        case 'message':
          this.#events.onMessage(ev.bytes, this, now, { message: ev.message });
          break;
        case 'invalid':
          this.#events.onMessage(ev.bytes, this, now, { error: ev.error });
          break;
        case 'ping':
          this.#socket.write(PONG);
          break;
        case 'pong':
          break;
        case 'error':
          this.#events.onFramingError(this, ev.error);
          this.destroy('limit', 'framing error');
          return;
      }
    }
    if (this.#framer.buffered === 0) {
      this.#partialSince = 0;
    } else if (this.#partialSince === 0) {
      this.#partialSince = now;
    } else if (now - this.#partialSince > this.#limits.idleTimeoutMs) {
      this.destroy('limit', 'incomplete message timeout');
    }
  }

  send(data: Uint8Array): boolean {
    if (this.#closed || this.#socket.destroyed) return false;
    if (this.#socket.writableLength + data.length > this.#limits.maxWriteBufferBytes) {
      this.destroy('limit', 'write buffer full');
      return false;
    }
    this.#socket.write(data);
    return true;
  }

  /** Closes the connection gracefully (FIN after pending writes; destroyed if the peer lingers 2 s). */
  end(reason: FlowCloseReason, detail: string): void {
    this.#cause ??= { reason, detail };
    this.#socket.end();
    this.#socket.setTimeout(2000, () => this.destroy(reason, detail));
  }

  destroy(reason: FlowCloseReason, detail: string): void {
    this.#cause ??= { reason, detail };
    this.#socket.destroy();
  }
}
