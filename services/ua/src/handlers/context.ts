/**
 * What every handler gets: the stores, the messaging, the core's configs, clock and randomness,
 * the logger and the metrics. build() makes one; unit tests make one from fakes.
 */
import type { FlowRef, Subjects } from '@sipnats/contracts';
import type { Logger } from '@sipnats/logging';
import type { DigestAuthenticator } from '../auth/digest-server.js';
import type { DialogConfig } from '../dialog/types.js';
import type { UaMetrics } from '../ops/metrics.js';
import type { Clock, RandomSource } from '../ports.js';
import type { BindingStore } from '../registrar/binding-store.js';
import type { RegistrarConfig } from '../registrar/registrar.js';
import type { FlowIndexing } from '../registrar/register-with-store.js';
import type { ClientTransactions } from '../runtime/client-transactions.js';
import type { Messaging } from '../runtime/messaging.js';
import type { CallStore } from '../store/call-store.js';
import type { UacStore } from '../store/uac-store.js';
import type { UacEvent, UacTarget } from '../uac/types.js';
import type { StaticRoute } from './routes.js';

export interface UaPolicy {
  /** Seconds in Retry-After of a 503. */
  readonly retryAfter: number;
  /** Peer re-INVITE/UPDATE: answer at once with the last local SDP, or wait for the controller. */
  readonly updatePolicy: 'accept' | 'controller';
  readonly updateTimeoutMs: number;
  /** Server / User-Agent header value. */
  readonly userAgent: string;
}

export interface UaContext {
  readonly instance: string;
  readonly subjects: Subjects;
  readonly messaging: Messaging;
  readonly clients: ClientTransactions;
  readonly calls: CallStore;
  /** Outbound calls (originate) around their INVITE transaction. */
  readonly uacs: UacStore;
  readonly bindings: BindingStore;
  /** The registrar's index by connection flow (absent: bindings of closed connections stay until a 430 or their expiry). */
  readonly flowIndex?: FlowIndexing;
  /** undefined: REGISTER is accepted without authentication. */
  readonly auth: DigestAuthenticator | undefined;
  readonly registrar: RegistrarConfig;
  readonly dialog: DialogConfig;
  readonly policy: UaPolicy;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: Logger;
  readonly metrics: UaMetrics;
  /** Events of a bridged call or of one of its legs (B2BUA reactions, see handlers/bridge.ts). */
  readonly bridgeEvents?: (source: BridgeSource, events: readonly UacEvent[]) => void;
  /** Static routes of the bridge (SIPNATS_ROUTES_FILE). */
  readonly routes?: readonly StaticRoute[];
  /** SIPNATS_ROUTING=bridge: bridge every new inbound call at once. */
  readonly autoBridge?: boolean;
  /** Whether a user name has credentials here (an unregistered known user gets 480, an unknown one 404). */
  readonly knownUser?: (user: string) => Promise<boolean>;
  /** RFC 3263 next hops of an outbound request's URI, healthy ones first (absent: the transport resolves). */
  readonly resolveTargets?: (uri: string) => Promise<UacTarget[]>;
  /** A next hop timed out or answered 503: tried last for a while. */
  readonly targetFailed?: (target: UacTarget) => void;
  /** Arms a local timer for a call (precise firing; the KV sweep is the safety net). */
  readonly scheduleLocal: (call: string, at: number) => void;
  /** Ended calls this instance is to remove (runtime/removals.ts; absent: the local timer alone). */
  readonly removals?: { note(call: string, removeAt: number): void; done(call: string): void };
}

/** A call taking part in a bridge: the inbound call (`bridge`) or a leg (`bridgeOf`). */
export interface BridgeSource {
  readonly call: string;
  readonly bridgeOf?: string;
  readonly legs?: readonly string[];
  /** A leg whose INVITE carried no SDP (the inbound call is a late offer). */
  readonly lateOffer?: boolean;
}

/** Where a request came from: the envelope fields handlers need. */
export interface RequestOrigin {
  readonly instance: string;
  readonly txn: string | undefined;
  readonly flow: FlowRef;
  /**
   * A new INVITE too old to be worth handling (SIPNATS_MAX_QUEUE_WAIT; why: the shed reason):
   * refused with 503 unless a call holds its Call-ID and From tag.
   */
  readonly refuseUnlessHeld?: 'wait' | 'stale';
}
