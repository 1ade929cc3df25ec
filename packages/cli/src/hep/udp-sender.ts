/** A connected UDP socket to the HEP collector, as a DatagramSender. */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { DatagramSender } from './hep-forwarder.js';

export interface UdpSender extends DatagramSender {
  /** `ip:port` the socket sends to. */
  readonly target: string;
  close(): Promise<void>;
}

/** Resolves `host` once, opens a UDP socket of its family and connects it to host:port. */
export async function openUdpSender(host: string, port: number, onError: (err: Error) => void): Promise<UdpSender> {
  const { address, family } = await lookup(host);
  const socket: Socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  socket.on('error', onError);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  return {
    target: family === 6 ? `[${address}]:${port}` : `${address}:${port}`,
    send(packet, done) {
      if (closed) {
        done(new Error('HEP socket closed'));
        return;
      }
      socket.send(packet, (err) => done(err ?? null));
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}
