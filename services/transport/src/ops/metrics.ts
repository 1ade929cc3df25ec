/** Prometheus metrics of the transport (prom-client, one registry per process or test). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues, type MetricObjectWithValues, type MetricType, type MetricValueWithName, type ObserveDataWithExemplar } from 'prom-client';

export interface TransportMetrics {
  readonly registry: Registry;
  /** labels: transport, kind (request|response), method, class (1xx..6xx, '' for requests) */
  readonly messagesIn: Counter<'transport' | 'kind' | 'method' | 'class'>;
  readonly messagesOut: Counter<'transport' | 'kind' | 'method' | 'class'>;
  /** labels: code (SIP_ERR_*), kind (request|response|unknown) */
  readonly parseErrors: Counter<'code' | 'kind'>;
  /** labels: side (server|client), direction (in: absorbed, out: resent) */
  readonly retransmissions: Counter<'side' | 'direction'>;
  /** Read at each scrape from the source given to `countOpenTransactions` (none: left as set). */
  readonly openTransactions: Gauge<'side'>;
  /** Where `openTransactions` is read from: a count per side, cheap to call (the transaction layer). */
  countOpenTransactions(source: () => { readonly server: number; readonly client: number }): void;
  readonly connections: Gauge<'transport'>;
  readonly connectionsRefused: Counter;
  /** Connections closed, by transport and FlowEvent reason; `announced`: the flow event was queued. */
  readonly flowsClosed: Counter<'transport' | 'reason' | 'announced'>;
  /** labels: direction (out: sent to another instance, in: received from one), kind */
  readonly forwarded: Counter<'direction' | 'kind'>;
  /** labels: where (branch|route|path|flow), fault */
  readonly refusedTokens: Counter<'where' | 'fault'>;
  /** labels: reason (nats-down|queue-full|draining|overload), method */
  readonly shed: Counter<'reason' | 'method'>;
  /** labels: priority, why */
  readonly publishDropped: Counter<'priority' | 'why'>;
  readonly publishLatency: TalliedHistogram;
  /** labels: reason (no-flow|send-failed|no-route|bad-message) */
  readonly sendFailures: Counter<'reason'>;
  readonly timeouts: Counter<'side'>;
  /** labels: reason (unmatched-response, oversize, bad-out-message, ...) */
  readonly dropped: Counter<'reason'>;
}

type MessageLabel = 'transport' | 'kind' | 'method' | 'class';
const MESSAGE_LABELS: MessageLabel[] = ['transport', 'kind', 'method', 'class'];

export function createMetrics(withDefaults = true): TransportMetrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'sipnats_transport_' });
  const r = [registry];
  let openSource: (() => { readonly server: number; readonly client: number }) | undefined;
  return {
    registry,
    messagesIn: new Counter({
      name: 'sipnats_transport_messages_in_total',
      help: 'SIP messages received, by transport, kind, method and status class.',
      labelNames: MESSAGE_LABELS,
      registers: r,
      collect() {
        flushMessageCounters(this);
      },
    }),
    messagesOut: new Counter({
      name: 'sipnats_transport_messages_out_total',
      help: 'SIP messages sent, by transport, kind, method and status class.',
      labelNames: MESSAGE_LABELS,
      registers: r,
      collect() {
        flushMessageCounters(this);
      },
    }),
    parseErrors: new Counter({
      name: 'sipnats_transport_parse_errors_total',
      help: 'Messages that failed to parse, by codec error code.',
      labelNames: ['code', 'kind'],
      registers: r,
    }),
    retransmissions: new Counter({
      name: 'sipnats_transport_retransmissions_total',
      help: 'Retransmissions absorbed (in) and sent (out) by the transaction layer.',
      labelNames: ['side', 'direction'],
      registers: r,
    }),
    openTransactions: new Gauge({
      name: 'sipnats_transport_transactions_open',
      help: 'Open transactions.',
      labelNames: ['side'],
      registers: r,
      collect() {
        if (openSource === undefined) return;
        const open = openSource();
        this.set({ side: 'server' }, open.server);
        this.set({ side: 'client' }, open.client);
      },
    }),
    countOpenTransactions(source) {
      openSource = source;
    },
    connections: new Gauge({ name: 'sipnats_transport_connections_open', help: 'Open connections.', labelNames: ['transport'], registers: r }),
    connectionsRefused: new Counter({
      name: 'sipnats_transport_connections_refused_total',
      help: 'Connections refused by the total or per-IP limit.',
      registers: r,
    }),
    flowsClosed: new Counter({
      name: 'sipnats_transport_flows_closed_total',
      help: 'Connections closed, by transport and reason; announced="false": the <p>.evt.flow.closed event was not queued (queue busy, NATS down).',
      labelNames: ['transport', 'reason', 'announced'],
      registers: r,
    }),
    forwarded: new Counter({
      name: 'sipnats_transport_forwarded_total',
      help: 'Messages forwarded to (out) or from (in) another transport instance.',
      labelNames: ['direction', 'kind'],
      registers: r,
    }),
    refusedTokens: new Counter({
      name: 'sipnats_transport_refused_tokens_total',
      help: 'Routing tokens refused (forged, tampered, malformed or unknown flow).',
      labelNames: ['where', 'fault'],
      registers: r,
    }),
    shed: new Counter({
      name: 'sipnats_transport_shed_total',
      help: 'New requests answered 503 instead of being published.',
      labelNames: ['reason', 'method'],
      registers: r,
    }),
    publishDropped: new Counter({
      name: 'sipnats_transport_publish_dropped_total',
      help: 'Messages not published to NATS.',
      labelNames: ['priority', 'why'],
      registers: r,
    }),
    publishLatency: new TalliedHistogram({
      name: 'sipnats_transport_publish_latency_seconds',
      help: 'Time a message waited in the publish queue before it was handed to NATS.',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: r,
    }),
    sendFailures: new Counter({
      name: 'sipnats_transport_send_failures_total',
      help: 'Messages that could not be sent.',
      labelNames: ['reason'],
      registers: r,
    }),
    timeouts: new Counter({ name: 'sipnats_transport_timeouts_total', help: 'Transactions ended by a timer.', labelNames: ['side'], registers: r }),
    dropped: new Counter({ name: 'sipnats_transport_dropped_total', help: 'Messages dropped, by reason.', labelNames: ['reason'], registers: r }),
  };
}

/**
 * A Prometheus histogram without labels for a value observed on every message (the publish queue
 * wait: several per request). prom-client's `observe` makes a closure, hashes and validates the
 * labels on each call (about a microsecond and 150 bytes), so observations are tallied here in
 * plain numbers and the exposition (`get`, read at each scrape) is made from the tallies, in the
 * form prom-client gives for its own histograms. A prom-client Histogram to the registry.
 */
export class TalliedHistogram extends Histogram<string> {
  // Plain fields, not #private: the base constructor calls reset() before they are initialised.
  private readonly metricName: string = '';
  private readonly metricHelp: string = '';
  private bounds: readonly number[] = [];
  private counts: Float64Array = new Float64Array(0);
  private sum = 0;
  private total = 0;

  constructor(config: { name: string; help: string; buckets: number[]; registers: Registry[] }) {
    super(config);
    // The base constructor sets `observe` on the instance (its own per-call implementation),
    // which would hide the method below.
    Reflect.deleteProperty(this, 'observe');
    this.metricName = config.name;
    this.metricHelp = config.help;
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.counts = new Float64Array(this.bounds.length);
  }

  /** The value alone (the histogram has no labels); a non-finite value is ignored. */
  override observe(...args: [number] | [LabelValues<string>, number] | [ObserveDataWithExemplar<string>]): void {
    const value: unknown = args.length === 2 ? args[1] : typeof args[0] === 'number' ? args[0] : args[0].value;
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    this.sum += value;
    this.total += 1;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= (b[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }

  /**
   * What the registry reads for the text exposition (prom-client calls this method of its
   * histograms, when present, instead of `get`); the unit test compares the text with a
   * prom-client Histogram's.
   */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.get();
  }

  override get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const bucket = `${this.metricName}_bucket`;
    const values: Array<MetricValueWithName<string>> = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i] as number;
      values.push({ labels: { le: this.bounds[i] as number }, value: acc, metricName: bucket });
    }
    values.push(
      { labels: { le: '+Inf' }, value: this.total, metricName: bucket },
      { labels: {}, value: this.sum, metricName: `${this.metricName}_sum` },
      { labels: {}, value: this.total, metricName: `${this.metricName}_count` },
    );
    // prom-client's typings declare `type` as an enum; the library writes (and reads) the string.
    const type = 'histogram' as unknown as MetricType;
    return Promise.resolve({ name: this.metricName, help: this.metricHelp, type, values, aggregator: 'sum', collect: () => undefined });
  }

  override reset(): void {
    super.reset();
    // Undefined while the base constructor runs (it calls reset() first).
    if ((this.counts as Float64Array | undefined) !== undefined) this.counts.fill(0);
    this.sum = 0;
    this.total = 0;
  }
}

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx', '6xx', '7xx', '8xx', '9xx'];

/** `1xx`..`6xx` for a status code (a constant string). */
export function statusClass(status: number): string {
  return CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`;
}

interface Tally {
  readonly labels: Readonly<Record<MessageLabel, string>>;
  n: number;
}

/** The MessageCounters of each messages counter, added to it when it is collected. */
const countersOf = new WeakMap<Counter<MessageLabel>, MessageCounter[]>();

function flushMessageCounters(counter: Counter<MessageLabel>): void {
  for (const c of countersOf.get(counter) ?? []) c.flush();
}

/**
 * `sipnats_transport_messages_{in,out}_total` for every message. prom-client's `inc` hashes the
 * label object and allocates on every call, so messages are counted here in plain numbers, per
 * label set, and added to the Prometheus counter when it is collected (each scrape of /metrics:
 * the counter of `createMetrics` has that hook). At most transports × kinds × method labels ×
 * classes label sets, all bounded.
 */
export class MessageCounter {
  readonly #counter: Counter<MessageLabel>;
  /** transport → kind → method → class → tally. */
  readonly #tallies = new Map<string, Map<string, Map<string, Map<string, Tally>>>>();
  readonly #all: Tally[] = [];

  constructor(counter: Counter<MessageLabel>) {
    this.#counter = counter;
    const list = countersOf.get(counter) ?? [];
    list.push(this);
    countersOf.set(counter, list);
  }

  /** `method` and `cls` must be bounded labels (methodLabel, statusClass or ''). */
  inc(transport: string, kind: string, method: string, cls: string): void {
    const byKind = level(this.#tallies, transport);
    const byMethod = level(byKind, kind);
    const byClass = level(byMethod, method);
    let tally = byClass.get(cls);
    if (tally === undefined) {
      tally = { labels: { transport, kind, method, class: cls }, n: 0 };
      byClass.set(cls, tally);
      this.#all.push(tally);
    }
    tally.n += 1;
  }

  /** Adds what was counted since the last flush to the Prometheus counter. */
  flush(): void {
    for (const t of this.#all) {
      if (t.n === 0) continue;
      this.#counter.inc(t.labels, t.n);
      t.n = 0;
    }
  }
}

function level<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let next = map.get(key);
  if (next === undefined) {
    next = new Map<string, V>();
    map.set(key, next);
  }
  return next;
}
