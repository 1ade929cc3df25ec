/** Prometheus metrics of the ua (prom-client), on a registry owned by the caller. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface UaMetrics {
  readonly registry: Registry;
  /** Requests answered, by method and final status sent (`none` for ACK and dropped requests). */
  readonly requests: Counter<'method' | 'status'>;
  /** Requests refused with 503 because the work queue was full or KV/NATS failed. */
  readonly shed: Counter<'reason'>;
  readonly dialogsActive: Gauge;
  readonly registrations: Gauge;
  readonly authFailures: Counter<'reason'>;
  readonly commandSeconds: Histogram<'action' | 'result'>;
  readonly kvSeconds: Histogram<'bucket' | 'op' | 'result'>;
  readonly events: Counter<'kind' | 'event'>;
  readonly queueDepth: Gauge;
  readonly inFlight: Gauge;
  readonly timersFired: Counter<'timer'>;
  /** `<p>.evt.flow.*` events: handled, ignored (not a connection, no flow index), invalid, shed (queue full), failed (KV). */
  readonly flowEvents: Counter<'result'>;
  /** Bindings the registrar removed because their flow is gone: flow-closed (event) or flow-failed (430). */
  readonly bindingsRemoved: Counter<'reason'>;
}

export function createUaMetrics(registry: Registry): UaMetrics {
  const r = [registry];
  return {
    registry,
    requests: new Counter({ name: 'sipnats_ua_requests_total', help: 'SIP requests handled, by method and response status.', labelNames: ['method', 'status'], registers: r }),
    shed: new Counter({ name: 'sipnats_ua_shed_total', help: 'Requests answered 503, by reason: queue (full), wait (waited longer than SIPNATS_MAX_QUEUE_WAIT for a slot), stale (already older than that when it reached a ua with requests waiting), store (KV or NATS failing), draining.', labelNames: ['reason'], registers: r }),
    dialogsActive: new Gauge({ name: 'sipnats_ua_dialogs_active', help: 'Calls stored in KV, ended ones included until SIPNATS_CALL_TTL (sampled at most every 30 s).', registers: r }),
    registrations: new Gauge({ name: 'sipnats_ua_registrations', help: 'Addresses of record with bindings (sampled by the sweep).', registers: r }),
    authFailures: new Counter({ name: 'sipnats_ua_auth_failures_total', help: 'Digest authentication failures, by reason.', labelNames: ['reason'], registers: r }),
    commandSeconds: new Histogram({
      name: 'sipnats_ua_command_seconds',
      help: 'Latency of call commands, by action and result code.',
      labelNames: ['action', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    kvSeconds: new Histogram({
      name: 'sipnats_ua_kv_seconds',
      help: 'Latency of KV operations, by bucket, operation and result.',
      labelNames: ['bucket', 'op', 'result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    }),
    events: new Counter({ name: 'sipnats_ua_events_total', help: 'Events published, by kind (call, reg) and event.', labelNames: ['kind', 'event'], registers: r }),
    queueDepth: new Gauge({ name: 'sipnats_ua_queue_depth', help: 'Work items waiting for a slot.', registers: r }),
    inFlight: new Gauge({ name: 'sipnats_ua_in_flight', help: 'Work items running.', registers: r }),
    timersFired: new Counter({ name: 'sipnats_ua_timers_fired_total', help: 'Call timers applied, by timer.', labelNames: ['timer'], registers: r }),
    flowEvents: new Counter({ name: 'sipnats_ua_flow_events_total', help: 'Flow events of the transports, by result (handled, ignored, invalid, shed, failed).', labelNames: ['result'], registers: r }),
    bindingsRemoved: new Counter({
      name: 'sipnats_ua_bindings_removed_total',
      help: 'Bindings removed because their flow is gone: flow-closed (the transport said so) or flow-failed (a call got 430).',
      labelNames: ['reason'],
      registers: r,
    }),
  };
}
