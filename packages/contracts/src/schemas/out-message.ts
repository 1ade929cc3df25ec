import { Type, type Static } from '@sinclair/typebox';
import { Base64, FlowRef, LIMITS, literals, Transport, version } from './common.js';

export const OUT_KINDS = ['response', 'request'] as const;
export type OutKind = (typeof OUT_KINDS)[number];

/**
 * ua → transport on `<p>.out.<instance>` (responses and flow-bound requests) or `<p>.out`
 * (queue group `transport`, new requests only). The transport answers a published request on the
 * message's NATS reply subject with every `ResponseEnvelope` of its client transaction.
 */
export const OutMessage = Type.Object(
  {
    v: version(),
    kind: literals(OUT_KINDS, 'What `raw` holds.'),
    raw: Base64('Base64 of the complete SIP message to send.'),
    txn: Type.Optional(
      Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'Responses: the server transaction id from `RequestEnvelope.txn`. Absent for a 2xx retransmitted outside a transaction.' }),
    ),
    flow: Type.Optional(FlowRef),
    target: Type.Optional(
      Type.Object(
        {
          transport: Transport,
          host: Type.String({ minLength: 1, maxLength: 255, description: 'Host name or IP address (IPv6 without brackets).' }),
          port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Port.' }),
        },
        { additionalProperties: false, description: 'Requests: explicit next hop; without it the transport uses the top Route or the Request-URI (RFC 3263).' },
      ),
    ),
    retransmit2xx: Type.Optional(
      Type.Boolean({ description: 'For a 2xx to INVITE: the transport retransmits it over UDP (T1 doubling to T2, 64*T1 total) until the ACK arrives; retransmissions never cross NATS.' }),
    ),
  },
  {
    $id: 'OutMessage',
    additionalProperties: false,
    description: 'A SIP message for a transport to send: `flow` pins it to one connection/flow.',
  },
);
export type OutMessage = Static<typeof OutMessage>;
