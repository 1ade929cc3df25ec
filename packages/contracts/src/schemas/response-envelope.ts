import { Type, type Static } from '@sinclair/typebox';
import { Base64, CSeq, FlowRef, InstanceId, LIMITS, version } from './common.js';

/**
 * transport → requester on the NATS reply subject of a published request `OutMessage`: each
 * response of that client transaction (provisional and final), or a locally generated final
 * response (408 on Timer B/F with `timeout: true`, 503 when the request could not be sent).
 */
export const ResponseEnvelope = Type.Object(
  {
    v: version(),
    instance: InstanceId('Id of the transport instance that runs the client transaction.'),
    txn: Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'Client transaction id.' }),
    status: Type.Integer({ minimum: 100, maximum: 699, description: 'Status code.' }),
    reason: Type.String({ maxLength: LIMITS.text, description: 'Reason phrase.' }),
    callId: Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'Call-ID.' }),
    cseq: CSeq,
    toTag: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.token, description: 'To tag of the response.' })),
    flow: Type.Optional(FlowRef),
    raw: Type.Optional(Base64('Base64 of the response bytes as received; absent for a locally generated response.')),
    timeout: Type.Optional(Type.Boolean({ description: 'True for the 408 generated when Timer B or F fired.' })),
    error: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'Why a locally generated response was produced (e.g. DNS or connect failure).' })),
  },
  {
    $id: 'ResponseEnvelope',
    additionalProperties: false,
    description: 'A response of a client transaction, delivered to the reply subject of the request that started it.',
  },
);
export type ResponseEnvelope = Static<typeof ResponseEnvelope>;
