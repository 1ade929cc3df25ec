/** The payload schemas by name (the public entry, src/index.ts, exports each schema itself). */
import { CallCommand } from './call-command.js';
import { CallEvent } from './call-event.js';
import { ChannelEvent } from './channel-event.js';
import { CommandReply } from './command-reply.js';
import { FlowEvent } from './flow-event.js';
import { ForwardedMessage } from './forwarded-message.js';
import { OutMessage } from './out-message.js';
import { RegEvent } from './reg-event.js';
import { RequestEnvelope } from './request-envelope.js';
import { ResponseEnvelope } from './response-envelope.js';

/** Every payload that crosses NATS as JSON; each gets a `proto/<Name>.schema.json`. */
export const PAYLOAD_SCHEMAS = {
  RequestEnvelope,
  ResponseEnvelope,
  OutMessage,
  ForwardedMessage,
  CallEvent,
  RegEvent,
  ChannelEvent,
  FlowEvent,
  CallCommand,
  CommandReply,
} as const;
