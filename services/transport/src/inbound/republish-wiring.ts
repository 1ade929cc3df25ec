/**
 * The Republisher (republish.ts) bound to the transport's parts: the transaction layer says
 * whether a server transaction still waits for the ua, the publish queue takes the envelopes, and
 * `sipnats_transport_republished_total` counts every publish again.
 */
import { Counter, type Registry } from 'prom-client';
import { withAttempt } from '../publish/envelopes.js';
import { Priority, type Publisher } from '../publish/publisher.js';
import { methodLabel } from '../sender.js';
import type { Clock, TransactionLayer } from '../txn/index.js';
import { Republisher } from './republish.js';

/** States of a server transaction without any response from the TU (INVITE: only our 100 Trying). */
const WAITING_STATES: ReadonlySet<string> = new Set(['trying', 'proceeding']);

export interface RepublisherWiring {
  readonly clock: Clock;
  readonly txns: TransactionLayer;
  readonly publisher: Publisher;
  readonly registry: Registry;
  /** Most transactions tracked (the server transaction limit). */
  readonly maxTracked: number;
  readonly delaysMs?: readonly number[];
}

export function createRepublisher(w: RepublisherWiring): Republisher {
  const counter = new Counter({
    name: 'sipnats_transport_republished_total',
    help: 'Request envelopes published again because no ua answered them yet, by method and result (queued|refused).',
    labelNames: ['method', 'result'],
    registers: [w.registry],
  });
  return new Republisher({
    clock: w.clock,
    ...(w.delaysMs === undefined ? {} : { delaysMs: w.delaysMs }),
    maxAgeMs: 64 * w.txns.timers.T1,
    maxTracked: w.maxTracked,
    stillWaiting: (txn) => {
      const t = w.txns.server(txn);
      return t !== undefined && WAITING_STATES.has(t.state);
    },
    // The envelope passed the inbound checks when it was first published; only `attempt` is new.
    publish: (subject, envelope, attempt) => w.publisher.offer(subject, withAttempt(envelope, attempt), Priority.high),
    onRepublish: (method, _attempt, refused) => counter.inc({ method: methodLabel(method), result: refused ? 'refused' : 'queued' }),
  });
}
