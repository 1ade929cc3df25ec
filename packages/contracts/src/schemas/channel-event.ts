import { Type, type Static } from '@sinclair/typebox';
import { CALL_DIRECTIONS } from './call-event.js';
import { EpochMs, InstanceId, LIMITS, literals, version } from './common.js';

/** Every channel event, in the order a channel usually sees them. Subject `<p>.evt.channel.<event>`. */
export const CHANNEL_EVENTS = ['create', 'progress', 'early', 'answer', 'hangup', 'dtmf'] as const;
export type ChannelEventName = (typeof CHANNEL_EVENTS)[number];

/**
 * media server (mod_sipnats in FreeSWITCH) → observers on `<p>.evt.channel.<event>`: the life of one
 * of its channels that is tied to a sipnats call, i.e. that carries the call id (a channel set up by
 * a `bridge` whose INVITE carried `X-Sipnats-Call`, or a leg the module originated for an offer).
 * Facts only: nothing in sipnats acts on them.
 */
export const ChannelEvent = Type.Object(
  {
    v: version(),
    event: literals(
      CHANNEL_EVENTS,
      'create: the channel exists; progress: it rings (180); early: early media (183); answer: it is answered; hangup: it ended (`cause`); dtmf: a digit was received (`dtmf`).',
    ),
    call: Type.String({ minLength: 1, maxLength: LIMITS.token, description: 'sipnats call id the channel is tied to (its `X-Sipnats-Call`).' }),
    node: InstanceId('Id of the media server node (mod_sipnats `node-id`, else the FreeSWITCH switch name).'),
    uuid: Type.String({ minLength: 1, maxLength: 64, description: 'Channel id on that node (FreeSWITCH Unique-ID).' }),
    direction: literals(CALL_DIRECTIONS, "Seen from the node: inbound when the channel came in (a bridge's INVITE), outbound when the node placed it."),
    at: EpochMs('Event time, milliseconds since the Unix epoch.'),
    cause: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Z0-9_]+$', description: 'Hang-up cause (event `hangup`), a Q.850 name such as NORMAL_CLEARING.' })),
    dtmf: Type.Optional(
      Type.Object(
        {
          digit: Type.String({ pattern: '^[0-9A-D*#]$', description: 'The digit: 0-9, *, #, A-D.' }),
          duration: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'Duration in milliseconds.' })),
        },
        { additionalProperties: false, description: 'The DTMF digit (event `dtmf`).' },
      ),
    ),
  },
  { $id: 'ChannelEvent', additionalProperties: false, description: 'A media server channel event tied to a sipnats call.' },
);
export type ChannelEvent = Static<typeof ChannelEvent>;
