/**
 * build(deps): the transport's wiring, without process concerns (no env, no signals, no exit),
 * so tests can run it with fakes. main.ts supplies config, logger, NATS port and metrics.
 */
import { readFileSync } from 'node:fs';
import { encodeJsonTrusted, FlowEvent, QUEUE, subjects, type FlowCloseReason } from '@sipnats/contracts';
import type { Logger } from '@sipnats/logging';
import type { TransportConfig } from './config.js';
import type { Context } from './context.js';
import { Inbound } from './inbound/inbound.js';
import { createRepublisher } from './inbound/republish-wiring.js';
import { advertisedFor, formatHostPort, parseAdvertise, parseListenSpec, type ListenSpec } from './listeners/address.js';
import { ConnectionGuard } from './listeners/connection-guard.js';
import type { Flow, Listener } from './listeners/flow.js';
import { FlowIdAllocator } from './listeners/flow-ids.js';
import { ListenerRegistry } from './listeners/registry.js';
import { TcpListener } from './listeners/tcp.js';
import { TlsListener, type TlsOptions } from './listeners/tls.js';
import { UdpListener } from './listeners/udp.js';
import { WsListener } from './listeners/ws.js';
import type { TransportMetrics } from './ops/metrics.js';
import { Outbound } from './outbound/outbound.js';
import type { NatsPort, PortSubscription } from './publish/nats-port.js';
import { flowClosedEvent } from './publish/envelopes.js';
import { Priority, Publisher } from './publish/publisher.js';
import { ForwardedHandler } from './routing/forwarded.js';
import { TokenCodec } from './routing/token.js';
import { Sender } from './sender.js';
import { systemClock, TransactionLayer, type Clock, type Flow as TxnFlow, type TxnEvent } from './txn/index.js';

export interface AppDeps {
  readonly config: TransportConfig;
  readonly log: Logger;
  readonly nats: NatsPort;
  readonly metrics: TransportMetrics;
  /** Routing secret (SIPNATS_SECRET, or a random key main.ts made). */
  readonly secret: string | Buffer;
  readonly clock?: Clock;
}

export interface App {
  readonly context: Context;
  readonly listeners: ListenerRegistry;
  /** Binds every listener and subscribes to the out and fwd subjects. */
  start(): Promise<void>;
  /** Whether /readyz says ready, and why not. */
  readiness(): { ready: boolean; reason: string };
  /** Transactions without a final response yet, plus 2xx responses waiting for their ACK. */
  openTransactions(): number;
  /**
   * SIGTERM: new dialogs get 503, open transactions finish (at most `timeoutMs`), then the
   * subscriptions end, connections are closed (at most 2.5 s more) and the publish queue, with
   * their flow events, is flushed. The caller drains NATS afterwards.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Closes listeners and timers. */
  close(): Promise<void>;
}

function isOurFlow(f: TxnFlow): f is Flow {
  return typeof (f as Partial<Flow>).send === 'function';
}

/** Longest wait, when draining, for connections to close after we closed our side. */
const CONNECTION_CLOSE_WAIT_MS = 2500;

export function build(deps: AppDeps): App {
  const { config, log, nats, metrics } = deps;
  const instance = config.instanceId;
  const subj = subjects(config.prefix);
  const publisher = new Publisher(nats, config.queueBound, {
    onPublished: (ms) => metrics.publishLatency.observe(ms / 1000),
    onDropped: (priority, why) => metrics.publishDropped.inc({ priority, why }),
  });
  const sender = new Sender(instance, subj, publisher, metrics, log);
  const tokens = new TokenCodec(deps.secret);
  let draining = false;
  const pending = new Set<string>();

  // Open transactions are read from the layer at each scrape (countOpenTransactions below), not
  // counted per event: prom-client hashes labels and allocates on every call.
  const onTxnEvent = (e: TxnEvent): void => {
    switch (e.type) {
      case 'terminated':
        pending.delete(e.id);
        if (e.side === 'server') republisher.ended(e.id);
        return;
      case 'retransmission':
        metrics.retransmissions.inc({ side: e.side, direction: e.direction });
        return;
      case 'timeout':
        metrics.timeouts.inc({ side: e.side });
        return;
      case 'ack-timeout':
        log.info({ callId: e.callId, cseq: e.cseq, txn: e.txn }, 'no ACK for a 2xx within 64*T1');
        return;
      case 'transport-error':
        log.debug({ txn: e.id, method: e.method, err: e.error }, 'transaction transport error');
        return;
      case 'overload':
        log.warn({ side: e.side, method: e.method }, 'transaction table full');
        return;
    }
  };

  const txns = new TransactionLayer({
    clock: deps.clock ?? systemClock,
    send: (bytes, flow) => {
      if (!isOurFlow(flow) || !sender.send(bytes, flow)) throw new Error(`flow ${flow.id} is closed`);
    },
    timers: { T1: config.t1, T2: config.t2, T4: config.t4 },
    limits: { maxServerTxns: config.maxTransactions, maxClientTxns: config.maxTransactions },
    sendTrying: true,
    onEvent: onTxnEvent,
  });
  metrics.countOpenTransactions(() => {
    const size = txns.size();
    return { server: size.server, client: size.client };
  });
  const republisher = createRepublisher({ clock: deps.clock ?? systemClock, txns, publisher, registry: metrics.registry, maxTracked: config.maxTransactions });

  const specs: ListenSpec[] = config.listen.map(parseListenSpec);
  const rules = parseAdvertise(config.advertise ?? []);
  const guard = new ConnectionGuard({ maxConnections: config.maxConnections, maxConnectionsPerIp: config.maxConnectionsPerIp });
  const ids = new FlowIdAllocator();
  let tls: TlsOptions | undefined;
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    tls = { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey), verifyPeer: config.tlsVerifyPeer, handshakeTimeoutMs: 10_000 };
  }
  const limits = { maxMessageBytes: config.maxMessageBytes, maxHeaders: config.maxHeaders, maxLineBytes: config.maxLineBytes };

  // The inbound handler is created after the context, which needs the registry: late binding.
  const late: { inbound?: Inbound } = {};
  const onMessage = (data: Uint8Array, flow: Flow, at: number, pre?: Parameters<Inbound['handle']>[3]): void => late.inbound?.handle(data, flow, at, pre);
  const onOpen = (flow: Flow): void => {
    metrics.connections.inc({ transport: flow.transport });
  };
  const flowClosedSubject = subj.evtFlow('closed');
  /**
   * A connection is gone: announced on `<p>.evt.flow.closed` so that the ua drops the registrations
   * bound to it. Low priority in the bounded publish queue: never waits, refused when the queue is
   * half full or NATS is down (a request for the flow then still gets 430 Flow Failed).
   */
  const onClose = (flow: Flow, reason: FlowCloseReason, detail: string): void => {
    metrics.connections.dec({ transport: flow.transport });
    const announced = publisher.offer(flowClosedSubject, encodeJsonTrusted(FlowEvent, flowClosedEvent(instance, flow, reason, detail, Date.now())), Priority.low);
    metrics.flowsClosed.inc({ transport: flow.transport, reason, announced: announced ? 'true' : 'false' });
    if (log.isLevelEnabled('debug')) log.debug({ flow: flow.id, peer: formatHostPort(flow.remote), reason, detail, announced }, 'connection closed');
  };
  const onRefused = (): void => metrics.connectionsRefused.inc();
  const streamLimits = { ...limits, idleTimeoutMs: config.idleTimeout, maxWriteBufferBytes: config.maxWriteBufferBytes };

  const listeners: Listener[] = specs.map((spec, index) => {
    const advertise = (port: number) => advertisedFor(rules, spec, port);
    switch (spec.transport) {
      case 'udp':
        return new UdpListener({
          spec,
          index,
          advertise,
          onMessage,
          maxMessageBytes: config.maxMessageBytes,
          socketBufferBytes: config.udpBufferBytes,
          onOversize: () => metrics.dropped.inc({ reason: 'oversize' }),
          onSendError: (err) => {
            metrics.sendFailures.inc({ reason: 'send-failed' });
            log.debug({ err }, 'UDP send failed');
          },
        });
      case 'tcp':
      case 'tls': {
        const opts = {
          spec,
          index,
          advertise,
          guard,
          ids,
          limits: streamLimits,
          onMessage,
          onFramingError: (flow: Flow, err: { code: string; message: string }) => {
            metrics.parseErrors.inc({ code: err.code, kind: 'unknown' });
            log.debug({ flow: flow.id, peer: formatHostPort(flow.remote), code: err.code }, `framing error, closing: ${err.message}`);
          },
          onOpen,
          onClose,
          onRefused,
        };
        if (spec.transport === 'tcp') return new TcpListener(opts);
        if (tls === undefined) throw new Error('tls listener without SIP_TLS_CERT/SIP_TLS_KEY');
        return new TlsListener(opts, tls);
      }
      case 'ws':
      case 'wss':
        if (spec.transport === 'wss' && tls === undefined) throw new Error('wss listener without SIP_TLS_CERT/SIP_TLS_KEY');
        return new WsListener({
          spec,
          index,
          advertise,
          guard,
          ids,
          maxMessageBytes: config.maxMessageBytes,
          idleTimeoutMs: config.idleTimeout,
          maxWriteBufferBytes: config.maxWriteBufferBytes,
          tls: spec.transport === 'wss' ? tls : undefined,
          onMessage,
          onOpen,
          onClose,
          onRefused,
        });
    }
  });
  const registry = new ListenerRegistry(listeners);

  const context: Context = {
    instance,
    subjects: subj,
    log,
    metrics,
    publisher,
    sender,
    txns,
    listeners: registry,
    tokens,
    limits,
    retryAfter: config.retryAfter,
    pending,
    republisher,
    draining: () => draining,
  };
  const inbound = new Inbound(context, config.logWindow);
  late.inbound = inbound;
  const outbound = new Outbound(context);
  const forwarded = new ForwardedHandler(context, inbound);
  const subs: PortSubscription[] = [];

  /** Work a drain waits for: transactions without a final response, 2xx waiting for ACK. */
  const openTransactions = (): number => pending.size + txns.size().pendingAcks;

  return {
    context,
    listeners: registry,
    async start() {
      for (const l of listeners) await l.start();
      subs.push(nats.subscribe(subj.out(instance), undefined, outbound.handle));
      subs.push(nats.subscribe(subj.outAny(), QUEUE.transport, outbound.handle));
      subs.push(nats.subscribe(subj.fwd(instance), undefined, forwarded.handle));
      log.info(
        { listeners: listeners.map((l) => `${l.info.transport}:${formatHostPort(l.info.local)} (advertised ${formatHostPort(l.info.advertised)})`) },
        'transport listening',
      );
    },
    readiness() {
      if (draining) return { ready: false, reason: 'draining' };
      if (!nats.connected) return { ready: false, reason: 'NATS disconnected' };
      return { ready: true, reason: 'ready' };
    },
    openTransactions,
    async drain(timeoutMs) {
      draining = true;
      const deadline = Date.now() + timeoutMs;
      log.info({ open: openTransactions() }, 'draining: waiting for open transactions');
      while (openTransactions() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      log.info({ open: openTransactions() }, 'draining: transactions done');
      for (const s of subs.splice(0)) s.unsubscribe();
      // Connections close gracefully (a peer that does not answer is dropped after 2 s); their
      // flow events go out with the rest of the queue before the caller drains NATS.
      registry.endConnections('draining');
      const closeBy = Date.now() + CONNECTION_CLOSE_WAIT_MS;
      while (registry.connections > 0 && Date.now() < closeBy) await new Promise((r) => setTimeout(r, 20));
      publisher.flush();
    },
    async close() {
      republisher.close();
      txns.close();
      publisher.close();
      for (const s of subs.splice(0)) s.unsubscribe();
      await registry.closeAll();
    },
  };
}
