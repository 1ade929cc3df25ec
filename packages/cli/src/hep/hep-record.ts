/**
 * Maps a raw message (as published by the transport) to the HEP packet that describes it: for a
 * message the transport received, the source is the remote address and the destination the local
 * one; for a message it sent, the other way round. UDP is IP protocol 17; TCP, TLS, WS and WSS run
 * over TCP (6). The correlation id is the Call-ID when the message parsed.
 */
import type { RawRecord } from '../tail/raw-record.js';
import { HEP_IP_PROTOCOL } from './hep-encode.js';
import type { HepPacket } from './hep-encode.js';

export interface HepIdentity {
  readonly captureId: number;
  readonly authKey?: string | undefined;
  /** Add the Call-ID as correlation id chunk (0x11). */
  readonly correlate: boolean;
}

/** Why a record cannot become a HEP packet. */
export type HepMapProblem = 'no-address';

export function recordToHep(r: RawRecord, id: HepIdentity): HepPacket | HepMapProblem {
  if (r.local === undefined || r.remote === undefined) return 'no-address';
  const [src, dst] = r.direction === 'in' ? [r.remote, r.local] : [r.local, r.remote];
  const callId = r.outcome.ok ? r.outcome.sip.callId : undefined;
  return {
    src: { ip: src.ip, port: src.port },
    dst: { ip: dst.ip, port: dst.port },
    ipProtocol: r.transport === 'udp' || r.transport === undefined ? HEP_IP_PROTOCOL.udp : HEP_IP_PROTOCOL.tcp,
    timeMs: r.time,
    captureId: id.captureId,
    authKey: id.authKey,
    payload: r.bytes,
    correlationId: id.correlate ? callId : undefined,
  };
}
