import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { HeaderMap, LIMITS, version } from './common.js';

/** Every call command action. Subject `<p>.cmd.call.<action>` (request/reply, queue group `ua`). */
export const CALL_ACTIONS = ['ring', 'answer', 'reject', 'redirect', 'hangup', 'info', 'update', 'originate', 'bridge', 'transfer'] as const;
export type CallAction = (typeof CALL_ACTIONS)[number];

const callId = () =>
  Type.String({ minLength: 1, maxLength: LIMITS.token, description: 'sipnats call id (from a CallEvent; for originate, the id chosen by the controller).' });
const sdp = (description: string) => Type.String({ minLength: 1, maxLength: LIMITS.sdp, description });
const uri = (description: string) => Type.String({ minLength: 1, maxLength: LIMITS.uri, description });
const timeoutMs = () => Type.Integer({ minimum: 1, maximum: 600_000, description: 'How long to wait for an answer, in milliseconds.' });
const headers = () => HeaderMap('Extra SIP headers to add (names starting with `X-` are passed as they are; others are refused).');

function command<A extends CallAction, P extends TProperties>(action: A, id: string, description: string, props: P) {
  return Type.Object(
    { v: version(), call: callId(), action: Type.Literal(action, { description: 'The command.' }), ...props },
    { $id: id, additionalProperties: false, description },
  ) as TObject<{ v: ReturnType<typeof version>; call: ReturnType<typeof callId>; action: ReturnType<typeof Type.Literal<A>> } & P>;
}

export const RingCommand = command('ring', 'RingCommand', 'Send a provisional response (180 by default) to an inbound call.', {
  sdp: Type.Optional(sdp('SDP answer for early media (sent with 183).')),
  reliable: Type.Optional(Type.Boolean({ description: 'Send it reliably (RFC 3262, requires the peer to support 100rel).' })),
  status: Type.Optional(Type.Union([Type.Literal(180), Type.Literal(183)], { description: 'Status code, 180 or 183.' })),
});
export type RingCommand = Static<typeof RingCommand>;

export const AnswerCommand = command(
  'answer',
  'AnswerCommand',
  'Answer an inbound call with 200 OK and SDP (the answer; the offer when the INVITE had none, answered in the ACK), or give an outbound late offer (originate without `sdp`) the SDP answer its ACK carries to the offer of the 2xx (`answered` event).',
  {
    sdp: sdp('SDP answer (the offer in the 200 when the inbound INVITE had no SDP).'),
    headers: Type.Optional(headers()),
  },
);
export type AnswerCommand = Static<typeof AnswerCommand>;

export const RejectCommand = command('reject', 'RejectCommand', 'Reject an inbound call with a final response.', {
  status: Type.Integer({ minimum: 300, maximum: 699, description: 'Final status code, 300-699.' }),
  reason: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'Reason phrase.' })),
  headers: Type.Optional(headers()),
});
export type RejectCommand = Static<typeof RejectCommand>;

export const RedirectCommand = command('redirect', 'RedirectCommand', 'Redirect an inbound call (3xx with Contact headers).', {
  status: Type.Optional(Type.Integer({ minimum: 300, maximum: 399, description: 'Redirect status, 302 by default.' })),
  contacts: Type.Array(uri('Contact URI.'), { minItems: 1, maxItems: LIMITS.contacts, description: 'Contacts to redirect to.' }),
});
export type RedirectCommand = Static<typeof RedirectCommand>;

export const HangupCommand = command('hangup', 'HangupCommand', 'End a call: BYE when confirmed, CANCEL for an outbound early call, 480/487 for an unanswered inbound call.', {
  cause: Type.Optional(Type.String({ maxLength: LIMITS.token, description: 'Hang-up cause (Q.850 name), sent in a Reason header.' })),
  reason: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'Reason text.' })),
});
export type HangupCommand = Static<typeof HangupCommand>;

export const InfoCommand = command('info', 'InfoCommand', 'Send an INFO request within the dialog.', {
  contentType: Type.String({ minLength: 1, maxLength: LIMITS.text, description: 'Content-Type of the body.' }),
  body: Type.String({ maxLength: LIMITS.body, description: 'Body as text.' }),
});
export type InfoCommand = Static<typeof InfoCommand>;

export const UpdateCommand = command('update', 'UpdateCommand', 'Send a new SDP offer within the dialog (re-INVITE by default).', {
  sdp: sdp('New SDP offer.'),
  method: Type.Optional(Type.Union([Type.Literal('INVITE'), Type.Literal('UPDATE')], { description: 'INVITE (default) or UPDATE.' })),
});
export type UpdateCommand = Static<typeof UpdateCommand>;

export const OriginateCommand = command('originate', 'OriginateCommand', 'Place an outbound call; `call` is the id chosen by the controller.', {
  from: uri('From URI (or name-addr).'),
  to: uri('To URI; also the Request-URI unless `target` is a SIP URI of a different user.'),
  target: Type.Optional(uri('Request-URI / next hop, e.g. `sip:bob@10.0.0.5:5060;transport=tcp`, or a registered user.')),
  sdp: Type.Optional(sdp('SDP offer (absent: a late-offer INVITE; the 2xx offer comes in `answered`, and an `answer` command gives the answer for the ACK within 64*T1).')),
  headers: Type.Optional(headers()),
  credentials: Type.Optional(
    Type.Object(
      {
        username: Type.String({ minLength: 1, maxLength: LIMITS.text, description: 'Digest username.' }),
        password: Type.String({ maxLength: LIMITS.text, description: 'Digest password (never logged).' }),
        realm: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'Answer only challenges of this realm.' })),
      },
      { additionalProperties: false, description: 'Credentials for a 401/407 challenge.' },
    ),
  ),
  timeoutMs: Type.Optional(timeoutMs()),
});
export type OriginateCommand = Static<typeof OriginateCommand>;

export const BridgeCommand = command('bridge', 'BridgeCommand', 'Call another target for an inbound call and connect the two when it answers.', {
  target: Type.Optional(uri('URI or user to call; absent: the inbound Request-URI user (located in the registrar).')),
  headers: Type.Optional(headers()),
  timeoutMs: Type.Optional(timeoutMs()),
});
export type BridgeCommand = Static<typeof BridgeCommand>;

export const TransferCommand = command(
  'transfer',
  'TransferCommand',
  'Blind transfer of a confirmed call: send REFER (RFC 3515) with Refer-To `target`; the reply comes with the REFER\'s final response (202: ok), the progress as `transferred` events.',
  {
    target: uri('Refer-To URI: sip:, sips: or tel:.'),
    headers: Type.Optional(headers()),
  },
);
export type TransferCommand = Static<typeof TransferCommand>;

/** The schema of each action, for validating one action with precise error messages. */
export const CALL_COMMAND_SCHEMAS = {
  ring: RingCommand,
  answer: AnswerCommand,
  reject: RejectCommand,
  redirect: RedirectCommand,
  hangup: HangupCommand,
  info: InfoCommand,
  update: UpdateCommand,
  originate: OriginateCommand,
  bridge: BridgeCommand,
  transfer: TransferCommand,
} as const;

/** controllers → ua on `<p>.cmd.call.<action>`; the action in the subject must equal `action`. */
export const CallCommand = Type.Union(Object.values(CALL_COMMAND_SCHEMAS), {
  $id: 'CallCommand',
  description: 'A call control command, discriminated by `action`.',
});
export type CallCommand = Static<typeof CallCommand>;
