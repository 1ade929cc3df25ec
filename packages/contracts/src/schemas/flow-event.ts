import { Type, type Static } from '@sinclair/typebox';
import { EpochMs, FlowRef, LIMITS, literals, version } from './common.js';

/** Every flow event. Subject `<p>.evt.flow.<event>`. */
export const FLOW_EVENTS = ['closed'] as const;
export type FlowEventName = (typeof FLOW_EVENTS)[number];

/** Why a connection-oriented flow closed (stable values, for logic and metrics; `detail` says more). */
export const FLOW_CLOSE_REASONS = ['peer', 'error', 'idle', 'limit', 'shutdown'] as const;
export type FlowCloseReason = (typeof FLOW_CLOSE_REASONS)[number];

/**
 * transport → ua (queue group `ua`) and anyone listening, on `<p>.evt.flow.<event>`: a flow of the
 * publishing transport instance (`flow.instance`) changed. Only connection-oriented flows (TCP, TLS,
 * WS, WSS) are announced; a UDP flow lives as long as its listener. Best effort: published without
 * waiting, dropped when the transport's publish queue is busy or NATS is down.
 */
export const FlowEvent = Type.Object(
  {
    v: version(),
    event: literals(FLOW_EVENTS, 'closed: the connection is gone; nothing can be sent on this flow any more (a request for it gets 430 Flow Failed).'),
    flow: FlowRef,
    reason: literals(
      FLOW_CLOSE_REASONS,
      'peer: the peer closed it (FIN, WebSocket close frame); error: a socket error or an abnormal end (reset, WebSocket 1006); idle: no traffic or no answer to keep-alives within the idle timeout; limit: closed by the transport for breaking a limit (framing error, incomplete message, write buffer full); shutdown: the transport instance is draining or stopping.',
    ),
    detail: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'What the transport knows about the close, for people (e.g. `socket error: read ECONNRESET`, `websocket closed (1006)`).' })),
    at: EpochMs('Time the transport saw the close, milliseconds since the Unix epoch.'),
  },
  { $id: 'FlowEvent', additionalProperties: false, description: 'A transport flow event.' },
);
export type FlowEvent = Static<typeof FlowEvent>;
