/** What the inbound, outbound and forwarding paths share (built once in app.ts). */
import type { Subjects } from '@sipnats/contracts';
import type { Logger } from '@sipnats/logging';
import type { SipLimits } from '@sipnats/sip-codec';
import type { ListenerRegistry } from './listeners/registry.js';
import type { TransportMetrics } from './ops/metrics.js';
import type { Publisher } from './publish/publisher.js';
import type { TokenCodec } from './routing/token.js';
import type { Sender } from './sender.js';
import type { Republisher } from './inbound/republish.js';
import type { TransactionLayer } from './txn/index.js';

export interface Context {
  readonly instance: string;
  readonly subjects: Subjects;
  readonly log: Logger;
  readonly metrics: TransportMetrics;
  readonly publisher: Publisher;
  readonly sender: Sender;
  readonly txns: TransactionLayer;
  readonly listeners: ListenerRegistry;
  readonly tokens: TokenCodec;
  readonly limits: Required<SipLimits>;
  /** Seconds for Retry-After in 503 responses. */
  readonly retryAfter: number;
  /**
   * Transactions still waiting for a final response (server: published, not yet answered;
   * client: sent, no final response yet). Draining waits for this set to empty.
   */
  readonly pending: Set<string>;
  /** Publishes a request again while no ua answered it (absent: published once). */
  readonly republisher?: Republisher;
  /** True once SIGTERM started the drain. */
  draining(): boolean;
}
