/** TCP listener (RFC 3261 §18): plain streams framed by Content-Length. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { HostPort } from './address.js';
import { StreamListener, type StreamListenerOptions } from './stream-listener.js';

export class TcpListener extends StreamListener {
  constructor(opts: StreamListenerOptions) {
    super('tcp', opts);
  }

  protected createServer(onSocket: (socket: Socket) => void): Server {
    return createServer({ noDelay: true, keepAlive: true }, onSocket);
  }

  protected connect(remote: HostPort): Socket {
    return connect({ host: remote.host, port: remote.port, noDelay: true });
  }
}
