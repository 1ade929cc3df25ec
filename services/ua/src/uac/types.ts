/**
 * The outbound INVITE session (UAC side, RFC 3261 §13.2, §17.1.1.3, §9.1; RFC 3262 §4; RFC 3263
 * §4.3): a JSON-serializable record, versioned like the dialog record, and the data a transition
 * emits. Once a 2xx arrives the session holds a regular `DialogRecord` (role `uac`) and in-dialog
 * traffic is handled by the dialog core through the adapter in `in-dialog-adapter.ts`.
 */
import type { DialogConfig, DialogEvent, DialogRecord, OutResponse, SessionTimer, TimerName } from '../dialog/types.js';
import type { Header, RequestSpec } from '../sip-view.js';
import type { AuthEntry } from './challenge.js';

export const UAC_VERSION = 1;

/**
 * calling (INVITE sent, no provisional yet) → early (a provisional arrived) → confirmed (2xx
 * ACKed) → ended. `cancelling`: a CANCEL was requested before a final response. `answered`: late
 * offer only (the INVITE had no SDP): the 2xx carried the offer and its ACK waits for the answer.
 */
export type UacPhase = 'calling' | 'early' | 'cancelling' | 'answered' | 'confirmed' | 'ended';

/** A next hop, the `target` of the contracts' OutMessage (IPv6 without brackets). */
export interface UacTarget {
  readonly transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
}

/** An early dialog (§12.1.2), one per To tag of a provisional response. */
export interface EarlyDialog {
  readonly remoteTag: string;
  /** The To value of the provisional (with its tag). */
  readonly remoteUri: string;
  readonly remoteTarget: string;
  /** Record-Route of the provisional, reversed (§12.1.2). */
  readonly routeSet: readonly string[];
  /** Local CSeq of this early dialog (starts at the INVITE's; PRACKs increment it). */
  readonly localCseq: number;
  /** RSeq of the last reliable provisional acknowledged (RFC 3262 §4), 0 when none. */
  readonly lastRseq: number;
  readonly remoteSdp: string | undefined;
}

/**
 * Late offer (RFC 3261 §13.2.1): the 2xx that answered an INVITE without SDP carried the offer; its
 * ACK must carry the answer (§13.2.2.4), so it waits for one (the controller's `answer`, or the
 * bridged caller's ACK) until the `answer-timeout`.
 */
export interface AwaitingAnswer {
  /** The 2xx's leg; `remoteSdp` is the offer. */
  readonly leg: {
    readonly remoteTag: string;
    readonly remoteUri: string;
    readonly remoteTarget: string;
    readonly routeSet: readonly string[];
    readonly localCseq: number;
    readonly remoteSdp: string;
  };
  readonly status: number;
  /** Session timer the 2xx asked for (RFC 4028), armed once the ACK is sent. */
  readonly timer: SessionTimer | undefined;
}

/** A 2xx leg that was ACKed: the confirmed one, or an extra fork that was ACKed and BYEd. */
export interface AckedLeg {
  readonly remoteTag: string;
  /** The ACK sent, re-sent as is for each retransmission of that 2xx (§13.2.2.4). */
  readonly ack: UacRequest;
}

export interface UacCredentials {
  readonly username: string;
  readonly password: string;
  /** Answer only challenges of this realm. */
  readonly realm?: string;
}

/** A CANCEL asked for (by hangup or the ring timeout), sent once a provisional arrived (§9.1). */
export interface CancelState {
  readonly cause: string;
  readonly reason: string | undefined;
  /** The event raised when the INVITE ends: `cancelled` (controller) or `failed` (timeout). */
  readonly event: 'cancelled' | 'failed';
  readonly sent: boolean;
  readonly requestedAt: number;
}

export interface UacRecord {
  readonly v: typeof UAC_VERSION;
  readonly call: string;
  readonly phase: UacPhase;
  readonly callId: string;
  readonly localTag: string;
  /** From value with our tag, To value without a tag, as written in the INVITE. */
  readonly localUri: string;
  readonly remoteUri: string;
  readonly requestUri: string;
  readonly localContact: string;
  readonly invite: {
    /** CSeq number of the INVITE in flight (each new attempt increments it). */
    readonly cseq: number;
    /** 1 for the first INVITE, +1 per auth retry or failover; names the client transaction. */
    readonly attempt: number;
    /** Headers of the INVITE without CSeq and credentials (rebuilt per attempt). */
    readonly headers: readonly Header[];
    readonly sdp: string | undefined;
    /** A 422 was answered by raising Session-Expires to its Min-SE (RFC 4028 §7.3): once per call. */
    readonly minSERetried?: boolean;
  };
  readonly credentials: UacCredentials | undefined;
  /** Credentials headers sent with the current INVITE, keyed by `<status>:<realm>`. */
  readonly auth: readonly AuthEntry[];
  /** Resolved next hops (RFC 3263), tried in order; empty: the transport resolves. */
  readonly targets: readonly UacTarget[];
  readonly targetIndex: number;
  readonly early: readonly EarlyDialog[];
  /** The answered leg and extra forks (bounded). */
  readonly answered: AckedLeg | undefined;
  readonly forks: readonly AckedLeg[];
  readonly cancel: CancelState | undefined;
  /** Late offer: the 2xx waiting for the SDP answer that goes in its ACK (phase `answered`). */
  readonly awaiting?: AwaitingAnswer | undefined;
  /** The dialog once confirmed: handled by the dialog core from then on. */
  readonly dialog: DialogRecord | undefined;
  readonly finalStatus: number | undefined;
  readonly ended: { readonly cause: string; readonly status: number | undefined; readonly at: number } | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Events of an outbound call: the dialog core's plus `progress` (a 18x without SDP other than 180). */
export type UacEventName = DialogEvent['event'] | 'progress';
export interface UacEvent extends Omit<DialogEvent, 'event'> {
  readonly event: UacEventName;
}

/** What a request is for; tells the wiring how to send it. */
export type UacRequestPurpose =
  /** The initial INVITE or a new attempt (auth retry, failover): a new client transaction. */
  | 'invite'
  /** CANCEL of the INVITE client transaction `cancels` (§9.1: same branch as that INVITE). */
  | 'cancel'
  /** ACK for a 2xx: no transaction, no response expected (§13.2.2.4). */
  | 'ack'
  /** PRACK in an early dialog (RFC 3262 §7.2). */
  | 'prack'
  /** BYE of an extra 2xx leg, or a BYE after a 2xx that raced our CANCEL. */
  | 'bye'
  /** A request the dialog core made (BYE, INFO, re-INVITE, UPDATE; ACK of a re-INVITE 2xx). */
  | 'in-dialog';

export interface UacRequest extends RequestSpec {
  readonly purpose: UacRequestPurpose;
  /** For `invite`: the id of this INVITE client transaction (`<call>/<attempt>`). */
  readonly txnRef?: string;
  /** For `cancel`: the `txnRef` of the INVITE it cancels. */
  readonly cancels?: string;
  /** Explicit next hop (OutMessage.target); absent: the transport resolves Route / Request-URI. */
  readonly target?: UacTarget;
}

/** `answer-timeout`: late offer, no SDP answer for the ACK in 64·T1 (then ACK and BYE). */
export type UacTimerName = TimerName | 'ring-timeout' | 'cancel-timeout' | 'answer-timeout';

export interface UacTimerSpec {
  readonly name: UacTimerName;
  readonly at: number;
}

export interface UacTransition {
  readonly record: UacRecord;
  readonly changed: boolean;
  readonly requests: readonly UacRequest[];
  /** Responses to the peer's in-dialog requests (from the dialog core). */
  readonly responses: readonly OutResponse[];
  readonly events: readonly UacEvent[];
  readonly timers: readonly UacTimerSpec[];
  readonly cancelTimers: readonly UacTimerName[];
  /** A next hop that timed out or answered 503: put it on the resolver's blacklist. */
  readonly failedTarget?: UacTarget;
}

export interface UacConfig extends DialogConfig {
  /** Ring timeout when the originate command gives none, ms (default 60 000). */
  readonly ringTimeoutMs?: number;
  /** Max-Forwards of new requests (default DEFAULT_MAX_FORWARDS); a bridge leg's is the inbound INVITE's minus one. */
  readonly maxForwards?: number;
}

/** Max-Forwards of the requests we start (RFC 3261 §8.1.1.6). */
export const DEFAULT_MAX_FORWARDS = 70;

/** Early dialogs and extra 2xx legs kept per call at most (bounded: forks come from the network). */
export const MAX_EARLY_DIALOGS = 16;
export const MAX_FORKS = 16;
/** Challenge rounds per call at most (one per realm and status, plus one stale retry each). */
export const MAX_AUTH_ENTRIES = 4;
