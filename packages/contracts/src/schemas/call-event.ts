import { Type, type Static } from '@sinclair/typebox';
import { EpochMs, HeaderMap, InstanceId, LIMITS, literals, NameAddrInfo, version } from './common.js';

/** Every call event, in the order a call usually sees them. Subject `<p>.evt.call.<event>`. */
export const CALL_EVENTS = [
  'offer',
  'progress',
  'ringing',
  'early',
  'answered',
  'confirmed',
  'updated',
  'dtmf',
  'info',
  'cancelled',
  'ended',
  'failed',
  'transferred',
] as const;
export type CallEventName = (typeof CALL_EVENTS)[number];

export const CALL_DIRECTIONS = ['inbound', 'outbound'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

/** ua → controllers on `<p>.evt.call.<event>`. */
export const CallEvent = Type.Object(
  {
    v: version(),
    event: literals(
      CALL_EVENTS,
      'offer: new inbound INVITE waiting for a controller; progress: 18x without SDP (outbound); ringing: 180; early: 18x with SDP; answered: 2xx sent/received; confirmed: ACK received (outbound late offer: ACK sent with the answer); updated: re-INVITE/UPDATE changed the session (with a status ≥ 300: our offer was refused and the session stays as it was); dtmf; info: INFO received; cancelled: caller cancelled; ended: BYE; failed: the call failed (final non-2xx to its INVITE, or timeout); transferred: blind transfer (REFER) progress, see `cause`.',
    ),
    call: Type.String({ minLength: 1, maxLength: LIMITS.token, description: 'sipnats call id (stable for the life of the call; use it in commands).' }),
    dialog: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'Dialog id once a dialog exists (Call-ID, local tag, remote tag).' })),
    sipCallId: Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'SIP Call-ID.' }),
    direction: literals(CALL_DIRECTIONS, 'inbound: the peer called us; outbound: we called the peer (originate/bridge).'),
    from: NameAddrInfo,
    to: NameAddrInfo,
    at: EpochMs('Event time, milliseconds since the Unix epoch.'),
    instance: InstanceId('Id of the ua instance that produced the event.'),
    sdp: Type.Optional(Type.String({ maxLength: LIMITS.sdp, description: 'Remote SDP (offer or answer) when the event carries one.' })),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 699, description: 'SIP status of the response behind the event.' })),
    reason: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'Reason phrase or Reason header text.' })),
    cause: Type.Optional(
      Type.String({
        maxLength: LIMITS.token,
        description:
          'Hang-up cause (Q.850 name, e.g. NORMAL_CLEARING, or a sipnats cause such as NO_ANSWER, BLIND_TRANSFER). For `transferred`: absent for progress, else TRANSFER_REQUESTED (the peer sent REFER), TRANSFER_REJECTED (the peer refused our REFER), TRANSFER_COMPLETED, TRANSFER_FAILED, TRANSFER_TIMEOUT.',
      }),
    ),
    headers: Type.Optional(HeaderMap('Custom `X-` headers of the SIP message behind the event.')),
    referTo: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.uri, description: 'Refer-To URI of the transfer (event `transferred`).' })),
    referredBy: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.uri, description: 'Referred-By URI of a REFER the peer sent (event `transferred`, cause TRANSFER_REQUESTED).' })),
    dtmf: Type.Optional(
      Type.Object(
        {
          digit: Type.String({ pattern: '^[0-9A-D*#]$', description: 'The digit: 0-9, *, #, A-D.' }),
          duration: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'Duration in milliseconds.' })),
        },
        { additionalProperties: false, description: 'The DTMF digit (event `dtmf`, from INFO application/dtmf-relay).' },
      ),
    ),
    contentType: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'Content-Type of `body` (event `info`).' })),
    body: Type.Optional(Type.String({ maxLength: LIMITS.body, description: 'Message body as text (event `info`).' })),
  },
  { $id: 'CallEvent', additionalProperties: false, description: 'A high-level call event.' },
);
export type CallEvent = Static<typeof CallEvent>;
