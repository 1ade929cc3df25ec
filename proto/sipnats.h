/*
 * sipnats.h: the sipnats wire contract for C (subjects, headers, event and command names).
 * GENERATED from packages/contracts by `pnpm gen:proto`; do not edit. See proto/README.md.
 */
#ifndef SIPNATS_PROTO_H
#define SIPNATS_PROTO_H

/* Envelope version: the value of "v" in every JSON payload. */
#define SIPNATS_ENVELOPE_VERSION                 1

/* Subjects: "<prefix>.<part>[.<encoded token>]". Tokens are encoded (see proto/README.md). */
#define SIPNATS_DEFAULT_PREFIX                   "sip"
#define SIPNATS_SUBJ_RAW_IN                      "raw.in" /* <p>.raw.in.<instance>: raw inbound SIP, metadata in headers */
#define SIPNATS_SUBJ_RAW_OUT                     "raw.out" /* <p>.raw.out.<instance>: raw outbound SIP */
#define SIPNATS_SUBJ_REQ                         "req" /* <p>.req.<METHOD>: RequestEnvelope, queue "ua" */
#define SIPNATS_SUBJ_OUT                         "out" /* <p>.out.<instance> or <p>.out: OutMessage */
#define SIPNATS_SUBJ_FWD                         "fwd" /* <p>.fwd.<instance>: ForwardedMessage */
#define SIPNATS_SUBJ_EVT_CALL                    "evt.call" /* <p>.evt.call.<event>: CallEvent */
#define SIPNATS_SUBJ_EVT_REG                     "evt.reg" /* <p>.evt.reg.<event>: RegEvent */
#define SIPNATS_SUBJ_EVT_CHANNEL                 "evt.channel" /* <p>.evt.channel.<event>: ChannelEvent */
#define SIPNATS_SUBJ_EVT_FLOW                    "evt.flow" /* <p>.evt.flow.<event>: FlowEvent, queue "ua" */
#define SIPNATS_SUBJ_CMD_CALL                    "cmd.call" /* <p>.cmd.call.<action>: CallCommand -> CommandReply */

/* Queue groups. */
#define SIPNATS_QUEUE_UA                         "ua"
#define SIPNATS_QUEUE_TRANSPORT                  "transport"

/* NATS headers of raw.* and fwd.* messages. */
#define SIPNATS_HDR_TRANSPORT                    "Sipnats-Transport"
#define SIPNATS_HDR_LOCAL                        "Sipnats-Local"
#define SIPNATS_HDR_REMOTE                       "Sipnats-Remote"
#define SIPNATS_HDR_FLOW                         "Sipnats-Flow"
#define SIPNATS_HDR_TIME                         "Sipnats-Time"
#define SIPNATS_HDR_INSTANCE                     "Sipnats-Instance"

/* SIP header carrying the sipnats call id. */
#define SIPNATS_SIP_HDR_CALL                     "X-Sipnats-Call"

/* SIP transports (FlowRef.transport, Sipnats-Transport). */
#define SIPNATS_TRANSPORT_UDP                    "udp"
#define SIPNATS_TRANSPORT_TCP                    "tcp"
#define SIPNATS_TRANSPORT_TLS                    "tls"
#define SIPNATS_TRANSPORT_WS                     "ws"
#define SIPNATS_TRANSPORT_WSS                    "wss"

/* Call events (last token of <p>.evt.call.<event>, CallEvent.event). */
#define SIPNATS_CALL_EVT_OFFER                   "offer"
#define SIPNATS_CALL_EVT_PROGRESS                "progress"
#define SIPNATS_CALL_EVT_RINGING                 "ringing"
#define SIPNATS_CALL_EVT_EARLY                   "early"
#define SIPNATS_CALL_EVT_ANSWERED                "answered"
#define SIPNATS_CALL_EVT_CONFIRMED               "confirmed"
#define SIPNATS_CALL_EVT_UPDATED                 "updated"
#define SIPNATS_CALL_EVT_DTMF                    "dtmf"
#define SIPNATS_CALL_EVT_INFO                    "info"
#define SIPNATS_CALL_EVT_CANCELLED               "cancelled"
#define SIPNATS_CALL_EVT_ENDED                   "ended"
#define SIPNATS_CALL_EVT_FAILED                  "failed"
#define SIPNATS_CALL_EVT_TRANSFERRED             "transferred"

/* Registration events (last token of <p>.evt.reg.<event>, RegEvent.event). */
#define SIPNATS_REG_EVT_REGISTERED               "registered"
#define SIPNATS_REG_EVT_REFRESHED                "refreshed"
#define SIPNATS_REG_EVT_UNREGISTERED             "unregistered"
#define SIPNATS_REG_EVT_EXPIRED                  "expired"
#define SIPNATS_REG_EVT_FAILED                   "failed"

/* Channel events (last token of <p>.evt.channel.<event>, ChannelEvent.event). */
#define SIPNATS_CHANNEL_EVT_CREATE               "create"
#define SIPNATS_CHANNEL_EVT_PROGRESS             "progress"
#define SIPNATS_CHANNEL_EVT_EARLY                "early"
#define SIPNATS_CHANNEL_EVT_ANSWER               "answer"
#define SIPNATS_CHANNEL_EVT_HANGUP               "hangup"
#define SIPNATS_CHANNEL_EVT_DTMF                 "dtmf"

/* Directions (CallEvent.direction, ChannelEvent.direction). */
#define SIPNATS_DIRECTION_INBOUND                "inbound"
#define SIPNATS_DIRECTION_OUTBOUND               "outbound"

/* Flow events (last token of <p>.evt.flow.<event>, FlowEvent.event) and close reasons (FlowEvent.reason). */
#define SIPNATS_FLOW_EVT_CLOSED                  "closed"
#define SIPNATS_FLOW_CLOSE_PEER                  "peer"
#define SIPNATS_FLOW_CLOSE_ERROR                 "error"
#define SIPNATS_FLOW_CLOSE_IDLE                  "idle"
#define SIPNATS_FLOW_CLOSE_LIMIT                 "limit"
#define SIPNATS_FLOW_CLOSE_SHUTDOWN              "shutdown"

/* Call command actions (last token of <p>.cmd.call.<action>, CallCommand.action). */
#define SIPNATS_CALL_CMD_RING                    "ring"
#define SIPNATS_CALL_CMD_ANSWER                  "answer"
#define SIPNATS_CALL_CMD_REJECT                  "reject"
#define SIPNATS_CALL_CMD_REDIRECT                "redirect"
#define SIPNATS_CALL_CMD_HANGUP                  "hangup"
#define SIPNATS_CALL_CMD_INFO                    "info"
#define SIPNATS_CALL_CMD_UPDATE                  "update"
#define SIPNATS_CALL_CMD_ORIGINATE               "originate"
#define SIPNATS_CALL_CMD_BRIDGE                  "bridge"
#define SIPNATS_CALL_CMD_TRANSFER                "transfer"

/* CommandReply.code values. */
#define SIPNATS_REPLY_CODE_INVALID               "INVALID"
#define SIPNATS_REPLY_CODE_NOT_FOUND             "NOT_FOUND"
#define SIPNATS_REPLY_CODE_CONFLICT              "CONFLICT"
#define SIPNATS_REPLY_CODE_BAD_STATE             "BAD_STATE"
#define SIPNATS_REPLY_CODE_TIMEOUT               "TIMEOUT"
#define SIPNATS_REPLY_CODE_INTERNAL              "INTERNAL"

#endif /* SIPNATS_PROTO_H */
