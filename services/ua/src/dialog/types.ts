/**
 * Dialog record (RFC 3261 §12) and INVITE session state, JSON-serializable and versioned, kept in
 * KV with its revision; plus the data a transition emits (responses, requests, events, timers).
 */
import type { RequestHeadersSnapshot } from '../response.js';
import type { RequestSpec, ResponseSpec } from '../sip-view.js';

export const DIALOG_VERSION = 1;

/** §12: the dialog's own state. */
export type DialogState = 'early' | 'confirmed' | 'terminated';

/**
 * The INVITE session as the controller sees it:
 * offered → early (after a provisional) → answered (2xx sent, waiting for ACK) → confirmed → ended.
 * A rejected, redirected or cancelled call goes straight to ended.
 */
export type CallPhase = 'offered' | 'early' | 'answered' | 'confirmed' | 'ended';

export interface SessionTimer {
  /** Session interval, seconds (Session-Expires delta). */
  readonly interval: number;
  /** Who refreshes: we ('local') or the peer ('remote'). */
  readonly refresher: 'local' | 'remote';
  /** The refresher value written in Session-Expires (RFC 4028 roles). */
  readonly refresherParam: 'uac' | 'uas';
  /** Whether the peer supports `timer` (then 2xx carries Require: timer). */
  readonly peerSupports: boolean;
}

/** A reliable provisional response in flight (RFC 3262). */
export interface ReliableProvisional {
  readonly rseq: number;
  readonly response: ResponseSpec;
  readonly hasSdp: boolean;
  /** Next retransmission interval, ms. */
  readonly interval: number;
  readonly sentAt: number;
}

export interface ReliableState {
  /** The INVITE had 100rel in Supported or Require. */
  readonly peerSupports: boolean;
  /** The INVITE had 100rel in Require: every provisional but 100 goes reliably. */
  readonly peerRequires: boolean;
  /** RSeq of the next reliable provisional. */
  readonly nextRseq: number;
  readonly pending: ReliableProvisional | undefined;
  /** Reliable provisionals waiting for the PRACK of `pending` (bounded). */
  readonly queued: readonly { readonly status: number; readonly sdp: string | undefined }[];
  /** A 2xx held back until the PRACK of a provisional with SDP (RFC 3262 §3). */
  readonly deferredAnswer: { readonly sdp: string; readonly headers: readonly (readonly [string, string])[] } | undefined;
}

/** A re-INVITE or UPDATE from the peer that waits for our answer. */
export interface IncomingOffer {
  readonly method: 'INVITE' | 'UPDATE';
  readonly cseq: number;
  /** Transaction id handed in by the caller with the request (for the deferred response). */
  readonly txn: string;
  readonly request: RequestHeadersSnapshot;
  readonly sdp: string | undefined;
  /** 2xx sent to a re-INVITE, waiting for its ACK. */
  readonly answered: boolean;
}

/** A re-INVITE or UPDATE we sent. */
export interface OutgoingOffer {
  readonly method: 'INVITE' | 'UPDATE';
  readonly cseq: number;
  readonly sdp: string | undefined;
  /** Sent to refresh the session timer (not a controller's update). */
  readonly refresh: boolean;
  /** Set after a 491: we wait for the glare-retry timer. */
  readonly retryPending: boolean;
  /** A 422 was answered by sending the offer again with the interval it asked for (RFC 4028 §7.3): once. */
  readonly minSERetried?: boolean;
}

/** A REFER we sent (blind transfer, RFC 3515) and its implicit subscription. */
export interface OutgoingRefer {
  /** CSeq of the REFER: the `id` of its NOTIFYs' Event header (RFC 3515 §2.4.6). */
  readonly cseq: number;
  /** The Refer-To URI. */
  readonly target: string;
  /** The peer answered 2xx (or already NOTIFYed). */
  readonly accepted: boolean;
  /** Status of the latest sipfrag NOTIFYed. */
  readonly status: number | undefined;
}

/** A REFER the peer sent, accepted with 202: we NOTIFY the outcome (RFC 3515 §2.4.4). */
export interface IncomingRefer {
  /** CSeq of the peer's REFER (the Event `id` of our NOTIFYs). */
  readonly cseq: number;
  readonly target: string;
  /** Hang up (BYE) once the peer answered our final NOTIFY of this CSeq. */
  readonly hangupAfterNotify?: { readonly cseq: number; readonly cause: string; readonly reason: string | undefined } | undefined;
}

export interface DialogRecord {
  readonly v: typeof DIALOG_VERSION;
  /** sipnats call id: stable for the call, used by commands. */
  readonly call: string;
  readonly role: 'uas' | 'uac';
  readonly state: DialogState;
  readonly phase: CallPhase;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From/To value (with our tag) and the peer's, as written in requests we send. */
  readonly localUri: string;
  readonly remoteUri: string;
  /** Our Contact URI and the peer's (remote target, updated by target refreshes). */
  readonly localTarget: string;
  readonly remoteTarget: string;
  /** Route set in the order requests use it (Record-Route as received for a UAS). */
  readonly routeSet: readonly string[];
  readonly localCseq: number;
  readonly remoteCseq: number;
  readonly secure: boolean;
  readonly invite: {
    readonly txn: string;
    readonly cseq: number;
    readonly request: RequestHeadersSnapshot;
    readonly recordRoute: readonly string[];
    /** Final status sent (UAS) once there is one. */
    readonly finalStatus: number | undefined;
  };
  readonly reliable: ReliableState;
  /** The session last agreed on, each side's SDP (an offer of ours in flight is in `outgoing` until its 2xx). */
  readonly localSdp: string | undefined;
  readonly remoteSdp: string | undefined;
  /** The 2xx to the initial INVITE, kept for retransmission until the ACK (§13.3.1.4). */
  readonly pending2xx: { readonly response: ResponseSpec; readonly interval: number } | undefined;
  /** Hang up as soon as the ACK arrives (hangup command while answered). */
  readonly hangupAfterAck: { readonly cause: string; readonly reason: string | undefined } | undefined;
  readonly incoming: IncomingOffer | undefined;
  readonly outgoing: OutgoingOffer | undefined;
  readonly timer: SessionTimer | undefined;
  /** `bye`: the CSeq of the peer's BYE that ended the dialog (absent: it ended otherwise, or before this was recorded). */
  readonly ended: { readonly cause: string; readonly status: number | undefined; readonly at: number; readonly bye?: number } | undefined;
  /** Our blind transfer in progress (absent in records written before transfers existed). */
  readonly referOut?: OutgoingRefer | undefined;
  /** The peer's transfer request we accepted and still NOTIFY about. */
  readonly referIn?: IncomingRefer | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type DialogEventName =
  | 'offer'
  | 'ringing'
  | 'early'
  | 'answered'
  | 'confirmed'
  | 'updated'
  | 'dtmf'
  | 'info'
  | 'cancelled'
  | 'ended'
  | 'failed'
  | 'transferred';

/** A call event; the service adds v, call ids, from/to, at and instance (contracts CallEvent). */
export interface DialogEvent {
  readonly event: DialogEventName;
  readonly sdp?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly cause?: string;
  readonly dtmf?: { readonly digit: string; readonly duration?: number };
  readonly contentType?: string;
  readonly body?: string;
  /** Refer-To of a transfer (event `transferred`). */
  readonly referTo?: string;
  /** Referred-By of the peer's REFER. */
  readonly referredBy?: string;
  /**
   * Internal, never published: this `updated` with a status ≥ 300 is the refusal of our re-INVITE/UPDATE offer (the
   * call goes on with the session it had, §14.1), not the end of the call.
   */
  readonly offerFailed?: boolean;
}

export type TimerName =
  | 'no-answer'
  | 'rel-retransmit'
  | 'rel-timeout'
  | '2xx-retransmit'
  | 'ack-timeout'
  | 'session-refresh'
  | 'session-expire'
  | 'glare-retry'
  /** Our REFER got no final NOTIFY in time (re-armed by every NOTIFY). */
  | 'transfer-timeout'
  /** The peer's REFER: no outcome from the controller in time (or no answer to our final NOTIFY). */
  | 'refer-timeout';

/** Arm (or re-arm) the timer `name` of this call to fire at `at` (ms since the epoch). */
export interface TimerSpec {
  readonly name: TimerName;
  readonly at: number;
}

/** Where a response goes: the INVITE's server transaction, the current request's, or a stored one. */
export type ResponseTarget = { readonly to: 'invite' } | { readonly to: 'request' } | { readonly to: 'txn'; readonly txn: string };

export interface OutResponse {
  readonly target: ResponseTarget;
  readonly response: ResponseSpec;
}

export interface Transition {
  /** The new record (undefined when no dialog was created, e.g. an INVITE rejected at once). */
  readonly record: DialogRecord | undefined;
  /** False when nothing changed and there is nothing to write. */
  readonly changed: boolean;
  readonly responses: readonly OutResponse[];
  readonly requests: readonly RequestSpec[];
  readonly events: readonly DialogEvent[];
  readonly timers: readonly TimerSpec[];
  readonly cancelTimers: readonly TimerName[];
}

export interface DialogConfig {
  /** RFC 3261 T1 and T2, ms (defaults 500 and 4000). */
  readonly t1?: number;
  readonly t2?: number;
  /** Wait for a controller's answer at most this long, ms. */
  readonly answerTimeoutMs: number;
  /** Final status when no controller answers in time (e.g. 480). */
  readonly noAnswerStatus: number;
  /** Our preferred session interval and our Min-SE, seconds (RFC 4028); interval 0 disables. */
  readonly sessionExpires: number;
  readonly minSE: number;
  /** Methods we allow (Allow header). */
  readonly allow?: readonly string[];
  /** Longest wait for the next NOTIFY of a transfer, and for the controller after the peer's REFER, ms (default 120 000). */
  readonly transferTimeoutMs?: number;
}

export const DEFAULT_ALLOW = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY'] as const;
/** Extensions this UA supports. */
export const SUPPORTED = ['100rel', 'timer'] as const;
/** Reliable provisionals queued behind an unacknowledged one at most. */
export const MAX_QUEUED_PROVISIONALS = 4;
