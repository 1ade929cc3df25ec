/** Constants shared by every part of sipnats (and emitted into proto/sipnats.h). */

/** Version carried in `v` of every JSON envelope. Bumped only for incompatible changes. */
export const ENVELOPE_VERSION = 1;

/** Default subject prefix (setting SIPNATS_PREFIX). */
export const DEFAULT_PREFIX = 'sip';

/** Queue groups. */
export const QUEUE = { ua: 'ua', transport: 'transport' } as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

/** NATS header names on `raw.*` and `fwd.*` messages. */
export const RAW_HEADERS = {
  transport: 'Sipnats-Transport',
  local: 'Sipnats-Local',
  remote: 'Sipnats-Remote',
  flow: 'Sipnats-Flow',
  time: 'Sipnats-Time',
  instance: 'Sipnats-Instance',
} as const;
export type RawHeaderName = (typeof RAW_HEADERS)[keyof typeof RAW_HEADERS];

/** SIP header that carries the sipnats call id on messages ua sends (and that controllers may set). */
export const SIP_HEADER_CALL = 'X-Sipnats-Call';

/** SIP transports a flow can use. */
export const TRANSPORTS = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;
export type SipTransport = (typeof TRANSPORTS)[number];

/** Subject parts after the prefix (before the final token, if any). */
export const SUBJECT_PARTS = {
  rawIn: 'raw.in',
  rawOut: 'raw.out',
  req: 'req',
  out: 'out',
  fwd: 'fwd',
  evtCall: 'evt.call',
  evtReg: 'evt.reg',
  evtChannel: 'evt.channel',
  evtFlow: 'evt.flow',
  cmdCall: 'cmd.call',
} as const;
