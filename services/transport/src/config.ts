/**
 * Settings of the transport service. Every value comes from the environment through
 * @sipnats/config; README.md lists them (generated from this spec by describeSettings).
 */
import { commonSettings, natsChecks, setting, type ConfigOf, type DeepReadonly } from '@sipnats/config';
import { isSecure, parseAdvertise, parseListenSpec, type ListenSpec } from './listeners/address.js';

export const transportSettings = {
  ...commonSettings,
  listen: setting.list('SIP_LISTEN', {
    doc: 'SIP listeners, comma-separated `transport:ip:port` with transport udp, tcp, tls, ws or wss; IPv6 as `udp:[::]:5060`; port 0 picks a free port.',
    default: ['udp:0.0.0.0:5060', 'tcp:0.0.0.0:5060'],
  }),
  advertise: setting.list('SIP_ADVERTISE', {
    doc: 'Public address written into Via, Record-Route, Path and Contact: one `host[:port]` for every listener, or `transport:host[:port]` items per transport. Default: the bound address (the first interface address for a wildcard).',
    optional: true,
  }),
  tlsCert: setting.file('SIP_TLS_CERT', { doc: 'PEM certificate (chain) for the tls and wss listeners.', optional: true }),
  tlsKey: setting.file('SIP_TLS_KEY', { doc: 'PEM private key for the tls and wss listeners.', optional: true, secret: true }),
  tlsVerifyPeer: setting.bool('SIP_TLS_VERIFY_PEER', {
    doc: 'Verify the certificate of TLS peers the transport connects to.',
    default: true,
  }),
  secret: setting.string('SIPNATS_SECRET', {
    doc: 'HMAC key (at least 16 bytes) that authenticates routing tokens in Via branches and Record-Route/Path; the same on every transport instance. Required in production; otherwise a random per-process key is used (single-instance only).',
    optional: true,
    secret: true,
  }),
  maxMessageBytes: setting.int('SIP_MAX_MESSAGE_BYTES', {
    doc: 'Largest SIP message accepted (headers and body), bytes.',
    default: 65_535,
    min: 1024,
    max: 1_048_576,
  }),
  maxHeaders: setting.int('SIP_MAX_HEADERS', { doc: 'Most header lines accepted in one message.', default: 256, min: 16, max: 4096 }),
  maxLineBytes: setting.int('SIP_MAX_LINE_BYTES', { doc: 'Longest start or header line accepted, bytes.', default: 8192, min: 256, max: 65_536 }),
  maxConnections: setting.int('SIP_MAX_CONNECTIONS', {
    doc: 'Most open TCP/TLS/WS connections in total (inbound and outbound).',
    default: 10_000,
    min: 1,
    max: 1_000_000,
  }),
  maxConnectionsPerIp: setting.int('SIP_MAX_CONNECTIONS_PER_IP', {
    doc: 'Most open connections from or to one IP address.',
    default: 200,
    min: 1,
    max: 1_000_000,
  }),
  idleTimeout: setting.duration('SIP_IDLE_TIMEOUT', {
    doc: 'Close a connection after this long without traffic (also the limit for completing a started message).',
    default: 120_000,
    min: 1000,
  }),
  maxWriteBufferBytes: setting.int('SIP_MAX_WRITE_BUFFER_BYTES', {
    doc: 'Bytes waiting to be written on one connection beyond which the peer is dropped as stuck.',
    default: 1_048_576,
    min: 65_536,
  }),
  udpBufferBytes: setting.int('SIP_UDP_BUFFER_BYTES', {
    doc: 'Receive and send buffer (SO_RCVBUF/SO_SNDBUF) asked for each UDP socket, so bursts survive a busy event loop; the kernel caps it at net.core.rmem_max/wmem_max.',
    default: 4_194_304,
    min: 65_536,
    max: 268_435_456,
  }),
  queueBound: setting.int('SIPNATS_PUBLISH_QUEUE', {
    doc: 'Most messages waiting to be published to NATS; beyond it new requests are answered 503 and raw copies are dropped.',
    default: 10_000,
    min: 10,
    max: 1_000_000,
  }),
  maxTransactions: setting.int('SIP_MAX_TRANSACTIONS', {
    doc: 'Most open transactions (server and client); beyond it new requests get 503.',
    default: 100_000,
    min: 100,
  }),
  retryAfter: setting.int('SIP_RETRY_AFTER', { doc: 'Seconds put into Retry-After of a 503 sent when overloaded or draining.', default: 5, min: 1, max: 3600 }),
  t1: setting.duration('SIP_T1', { doc: 'RFC 3261 Timer T1 (RTT estimate).', default: 500, min: 10, max: 60_000 }),
  t2: setting.duration('SIP_T2', { doc: 'RFC 3261 Timer T2 (longest retransmit interval).', default: 4000, min: 10, max: 600_000 }),
  t4: setting.duration('SIP_T4', { doc: 'RFC 3261 Timer T4 (longest time a message stays in the network).', default: 5000, min: 10, max: 600_000 }),
  drainTimeout: setting.duration('SIP_DRAIN_TIMEOUT', {
    doc: 'On SIGTERM, longest wait for open transactions to finish before NATS is drained and the process exits.',
    default: 32_000,
    min: 0,
  }),
  logWindow: setting.duration('SIP_LOG_WINDOW', {
    doc: 'Parse errors are logged at most once per peer and window.',
    default: 60_000,
    min: 1000,
  }),
} as const;

export type TransportConfig = DeepReadonly<ConfigOf<typeof transportSettings>>;

/** Cross-setting checks: NATS credentials, listener and advertise syntax, TLS material, the secret, timers. */
export function transportChecks(c: TransportConfig): string[] {
  const problems: string[] = natsChecks(c.nats);
  const specs: ListenSpec[] = [];
  for (const item of c.listen) {
    try {
      specs.push(parseListenSpec(item));
    } catch (e) {
      problems.push(`SIP_LISTEN: ${(e as Error).message}`);
    }
  }
  if (c.advertise !== undefined) {
    try {
      parseAdvertise(c.advertise);
    } catch (e) {
      problems.push(`SIP_ADVERTISE: ${(e as Error).message}`);
    }
  }
  if (specs.some((s) => isSecure(s.transport)) && (c.tlsCert === undefined || c.tlsKey === undefined)) {
    problems.push('SIP_TLS_CERT and SIP_TLS_KEY are required by the tls and wss listeners');
  }
  if (c.env === 'production' && c.secret === undefined) problems.push('SIPNATS_SECRET is required when SIPNATS_ENV=production');
  if (c.secret !== undefined && Buffer.byteLength(c.secret) < 16) problems.push('SIPNATS_SECRET must be at least 16 bytes');
  if (c.t2 < c.t1) problems.push('SIP_T2 must not be smaller than SIP_T1');
  return problems;
}
