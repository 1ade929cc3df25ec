/**
 * Outbound registration to trunks (RFC 3261 §10.2): the per-trunk record (JSON, versioned) and
 * what a step emits.
 */
import type { RegEventName } from '@sipnats/contracts';
import type { RequestSpec } from '../sip-view.js';
import type { AuthEntry } from '../uac/challenge.js';

export const REGISTRATION_VERSION = 1;

export interface TrunkConfig {
  /** Stable trunk id (config key). */
  readonly id: string;
  /** Registrar URI: the Request-URI of REGISTER, e.g. `sip:sip.provider.example`. */
  readonly registrar: string;
  /** Address of record (To and From), e.g. `sip:12345@sip.provider.example`. */
  readonly aor: string;
  /** Our Contact URI (the transport's advertised address). */
  readonly contact: string;
  readonly username: string;
  readonly password: string;
  /** Answer only challenges of this realm. */
  readonly realm?: string;
  /** Requested expiry, seconds. */
  readonly expires: number;
}

export interface OutboundRegConfig {
  /** Refresh this long before expiry at most (default 30 s); see `refreshDelayMs`. */
  readonly refreshMarginSeconds?: number;
  /** First retry delay after a failure, ms (default 5 000), doubling per failure. */
  readonly retryMinMs?: number;
  /** Retry delay cap, ms (default 300 000). */
  readonly retryMaxMs?: number;
  readonly maxForwards?: number;
}

/**
 * idle → registering → registered (refresh timer) → registering (refresh) → registered …;
 * failed (retry timer) → registering; unregistering → stopped.
 */
export type RegistrationPhase = 'idle' | 'registering' | 'registered' | 'failed' | 'unregistering' | 'stopped';

export interface RegistrationRecord {
  readonly v: typeof REGISTRATION_VERSION;
  readonly trunk: string;
  readonly phase: RegistrationPhase;
  /** Stable per trunk (§10.2: one Call-ID for all registrations of a UA to a registrar). */
  readonly callId: string;
  readonly localTag: string;
  /** CSeq of the REGISTER in flight (or last sent); increases with each request. */
  readonly cseq: number;
  /** Expires asked for (raised by a 423's Min-Expires). */
  readonly requestedExpires: number;
  /** Expires granted by the last 2xx; 0 when not registered. */
  readonly grantedExpires: number;
  /** The binding is (believed) live at the registrar: the next 2xx is a refresh. */
  readonly bound: boolean;
  readonly auth: readonly AuthEntry[];
  /** Consecutive failures (backoff exponent). */
  readonly failures: number;
  readonly lastError: string | undefined;
  readonly updatedAt: number;
}

export interface RegRequest extends RequestSpec {
  /** Names this REGISTER's client transaction: `reg/<trunk>/<cseq>`. */
  readonly txnRef: string;
}

/** A contracts RegEvent without v, at and instance (the service adds them). */
export interface RegEventSpec {
  readonly event: RegEventName;
  readonly aor: string;
  readonly contact: string;
  readonly expires: number;
  readonly reason?: string;
}

export type RegTimerName = 'reg-refresh' | 'reg-retry';

export interface RegTransition {
  readonly record: RegistrationRecord;
  readonly changed: boolean;
  readonly requests: readonly RegRequest[];
  readonly events: readonly RegEventSpec[];
  readonly timers: readonly { readonly name: RegTimerName; readonly at: number }[];
  readonly cancelTimers: readonly RegTimerName[];
}
