import { Type, type Static } from '@sinclair/typebox';
import { Base64, CSeq, EpochMs, FlowRef, InstanceId, LIMITS, NameAddrInfo, SipToken, version } from './common.js';

/** transport → ua on `<p>.req.<METHOD>` (queue group `ua`): a new server transaction, an ACK to a 2xx or a CANCEL. */
export const RequestEnvelope = Type.Object(
  {
    v: version(),
    instance: InstanceId('Id of the transport instance that received the request; send replies to `<p>.out.<instance>`.'),
    flow: FlowRef,
    txn: Type.Optional(
      Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'Server transaction id; put it in `OutMessage.txn` of each response. Absent for an ACK to a 2xx (no transaction).' }),
    ),
    receivedAt: EpochMs('Receive time, milliseconds since the Unix epoch.'),
    method: SipToken('Request method as on the wire.'),
    uri: Type.String({ minLength: 1, maxLength: LIMITS.uri, description: 'Request-URI.' }),
    callId: Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'Call-ID.' }),
    cseq: CSeq,
    from: NameAddrInfo,
    to: NameAddrInfo,
    branch: Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'Branch of the top Via.' }),
    cancels: Type.Optional(
      Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'For CANCEL: the server transaction id of the INVITE it cancels (absent when no such transaction exists).' }),
    ),
    raw: Base64('Base64 of the request bytes exactly as received (after the transport added received/rport).'),
    attempt: Type.Optional(
      Type.Integer({
        minimum: 2,
        maximum: 64,
        description:
          'Present when the transport publishes this server transaction again because the ua sent no response yet (core NATS is at most once): 2 for the second publish, and so on. Same `txn`; a ua must treat it as a repeated delivery of the same request.',
      }),
    ),
  },
  {
    $id: 'RequestEnvelope',
    additionalProperties: false,
    description: 'A parsed SIP request handed from a transport instance to the ua queue group.',
  },
);
export type RequestEnvelope = Static<typeof RequestEnvelope>;
