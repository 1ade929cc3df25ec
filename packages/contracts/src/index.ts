/** @sipnats/contracts: the wire contract of sipnats (subjects, headers, schemas, codec). */
export { ContractError, CONTRACT_ERROR, type ContractErrorCode } from './errors.js';
export { encodeToken, decodeToken, escapeToken, unescapeToken, isPlainToken, MAX_TOKEN_BYTES, type TokenEscape } from './token.js';
export { subjects, validatePrefix, type Subjects } from './subjects.js';
export {
  ENVELOPE_VERSION,
  DEFAULT_PREFIX,
  QUEUE,
  type QueueName,
  RAW_HEADERS,
  type RawHeaderName,
  SIP_HEADER_CALL,
  TRANSPORTS,
  type SipTransport,
  SUBJECT_PARTS,
} from './constants.js';
export { FlowRef, NameAddrInfo, CSeq, LIMITS } from './schemas/common.js';
export { RequestEnvelope } from './schemas/request-envelope.js';
export { ResponseEnvelope } from './schemas/response-envelope.js';
export { OutMessage, OUT_KINDS, type OutKind } from './schemas/out-message.js';
export { ForwardedMessage } from './schemas/forwarded-message.js';
export { CallEvent, CALL_EVENTS, CALL_DIRECTIONS, type CallEventName, type CallDirection } from './schemas/call-event.js';
export { RegEvent, REG_EVENTS, type RegEventName } from './schemas/reg-event.js';
export { ChannelEvent, CHANNEL_EVENTS, type ChannelEventName } from './schemas/channel-event.js';
export { FlowEvent, FLOW_EVENTS, FLOW_CLOSE_REASONS, type FlowEventName, type FlowCloseReason } from './schemas/flow-event.js';
export {
  CallCommand,
  CALL_ACTIONS,
  CALL_COMMAND_SCHEMAS,
  type CallAction,
  RingCommand,
  AnswerCommand,
  RejectCommand,
  RedirectCommand,
  HangupCommand,
  InfoCommand,
  UpdateCommand,
  OriginateCommand,
  BridgeCommand,
  TransferCommand,
} from './schemas/call-command.js';
export { CommandReply, REPLY_CODES, REPLY_CODE, type ReplyCode } from './schemas/command-reply.js';
export { PAYLOAD_SCHEMAS } from './schemas/index.js';
export { encodeJson, encodeJsonTrusted, decodeJson, assertValid, isValid, describeErrors, MAX_PROBLEMS, type DecodeResult } from './codec.js';
export { toBase64, fromBase64 } from './base64.js';
