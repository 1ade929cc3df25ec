import { Type, type Static } from '@sinclair/typebox';
import { Base64, EpochMs, FlowRef, InstanceId, version } from './common.js';

/** transport → transport on `<p>.fwd.<instance>`: a message that arrived at the instance that does not own it. */
export const ForwardedMessage = Type.Object(
  {
    v: version(),
    from: InstanceId('Id of the transport instance that received the message.'),
    flow: FlowRef,
    receivedAt: EpochMs('Receive time, milliseconds since the Unix epoch.'),
    raw: Base64('Base64 of the message bytes as received.'),
  },
  {
    $id: 'ForwardedMessage',
    additionalProperties: false,
    description: 'A SIP message forwarded to the owner of its transaction or flow.',
  },
);
export type ForwardedMessage = Static<typeof ForwardedMessage>;
