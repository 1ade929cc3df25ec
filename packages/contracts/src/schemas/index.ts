import { CallCommand } from './call-command.js';
import { CallEvent } from './call-event.js';
import { CommandReply } from './command-reply.js';
import { ForwardedMessage } from './forwarded-message.js';
import { OutMessage } from './out-message.js';
import { RegEvent } from './reg-event.js';
import { RequestEnvelope } from './request-envelope.js';
import { ResponseEnvelope } from './response-envelope.js';

export { FlowRef, NameAddrInfo, CSeq, LIMITS } from './common.js';
export { RequestEnvelope } from './request-envelope.js';
export { ResponseEnvelope } from './response-envelope.js';
export { OutMessage, OUT_KINDS, type OutKind } from './out-message.js';
export { ForwardedMessage } from './forwarded-message.js';
export { CallEvent, CALL_EVENTS, CALL_DIRECTIONS, type CallEventName, type CallDirection } from './call-event.js';
export { RegEvent, REG_EVENTS, type RegEventName } from './reg-event.js';
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
} from './call-command.js';
export { CommandReply, REPLY_CODES, REPLY_CODE, type ReplyCode } from './command-reply.js';

/** Every payload that crosses NATS as JSON; each gets a `proto/<Name>.schema.json`. */
export const PAYLOAD_SCHEMAS = {
  RequestEnvelope,
  ResponseEnvelope,
  OutMessage,
  ForwardedMessage,
  CallEvent,
  RegEvent,
  CallCommand,
  CommandReply,
} as const;
