/**
 * TLS listener (RFC 3261 §26.2): the TCP machinery over TLS sockets. The server certificate and
 * key come from SIP_TLS_CERT / SIP_TLS_KEY; client connections verify the peer unless told not to.
 */
import type { Server, Socket } from 'node:net';
import { connect, createServer, type SecureContextOptions } from 'node:tls';
import type { HostPort } from './address.js';
import { StreamListener, type StreamListenerOptions } from './stream-listener.js';

export interface TlsOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Verify certificates of peers we connect to (off only for tests and private networks). */
  readonly verifyPeer: boolean;
  /** Longest time a TLS handshake may take. */
  readonly handshakeTimeoutMs: number;
}

export class TlsListener extends StreamListener {
  readonly #tls: TlsOptions;

  constructor(opts: StreamListenerOptions, tls: TlsOptions) {
    super('tls', opts);
    this.#tls = tls;
  }

  protected createServer(onSocket: (socket: Socket) => void): Server {
    const ctx: SecureContextOptions = { cert: this.#tls.cert, key: this.#tls.key };
    const server = createServer({ ...ctx, handshakeTimeout: this.#tls.handshakeTimeoutMs }, onSocket);
    server.on('tlsClientError', () => undefined);
    return server;
  }

  protected connect(remote: HostPort): Socket {
    return connect({ host: remote.host, port: remote.port, rejectUnauthorized: this.#tls.verifyPeer });
  }
}
