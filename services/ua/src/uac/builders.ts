/**
 * Requests of the UAC session: the INVITE of each attempt, its CANCEL (§9.1), and the requests of
 * an early or confirmed leg (ACK, PRACK, BYE), built through the dialog core's in-dialog request
 * builder (§12.2.1.1, strict routing included) on a dialog record made from the leg.
 */
import { inDialogRequest } from '../dialog/builders.js';
import { reasonHeader } from '../dialog/commands.js';
import { expireAt, refreshAt } from '../dialog/session-timer.js';
import { DIALOG_VERSION } from '../dialog/types.js';
import type { DialogRecord, SessionTimer } from '../dialog/types.js';
import type { Header } from '../sip-view.js';
import type { UacEvent, UacRecord, UacRequest, UacTarget, UacTimerName, UacTimerSpec, UacTransition } from './types.js';

/** The id of the INVITE client transaction of an attempt (what a CANCEL refers to). */
export function inviteTxnRef(record: Pick<UacRecord, 'call' | 'invite'>): string {
  return `${record.call}/${record.invite.attempt}`;
}

export function currentTarget(record: Pick<UacRecord, 'targets' | 'targetIndex'>): UacTarget | undefined {
  return record.targets[record.targetIndex];
}

/** The INVITE of the current attempt: stored headers, CSeq, credentials, SDP. */
export function inviteRequest(record: UacRecord): UacRequest {
  const headers: Header[] = [...record.invite.headers, ['CSeq', `${record.invite.cseq} INVITE`], ...record.auth.map((a) => a.header)];
  const target = currentTarget(record);
  return {
    purpose: 'invite',
    method: 'INVITE',
    requestUri: record.requestUri,
    headers,
    txnRef: inviteTxnRef(record),
    ...(record.invite.sdp === undefined ? {} : { body: { contentType: 'application/sdp', content: record.invite.sdp } }),
    ...(target === undefined ? {} : { target }),
  };
}

const CANCEL_COPIED = new Set(['from', 'to', 'call-id', 'route', 'max-forwards']);

/**
 * §9.1: Request-URI, Call-ID, To, From and Route as in the INVITE, CSeq number with method
 * CANCEL. The top Via must equal the INVITE's, which only the transport knows: the request names
 * the INVITE client transaction in `cancels`, and goes to the same next hop.
 */
export function cancelRequest(record: UacRecord, cause: string, reason: string | undefined): UacRequest {
  const headers: Header[] = record.invite.headers.filter(([n]) => CANCEL_COPIED.has(n.toLowerCase()));
  headers.push(['CSeq', `${record.invite.cseq} CANCEL`], reasonHeader(cause, reason));
  const target = currentTarget(record);
  return {
    purpose: 'cancel',
    method: 'CANCEL',
    requestUri: record.requestUri,
    headers,
    cancels: inviteTxnRef(record),
    ...(target === undefined ? {} : { target }),
  };
}

/** The parts of a leg a dialog record is made of. */
export interface LegInfo {
  readonly remoteTag: string;
  readonly remoteUri: string;
  readonly remoteTarget: string;
  readonly routeSet: readonly string[];
  readonly localCseq: number;
  readonly remoteSdp: string | undefined;
}

/**
 * A dialog record (role `uac`) for a leg of this call (§12.1.2). `localSdp`: our offer in the
 * INVITE, or (late offer) the answer in the ACK.
 */
export function legDialog(
  record: UacRecord,
  leg: LegInfo,
  now: number,
  timer: SessionTimer | undefined,
  phase: 'early' | 'confirmed',
  localSdp: string | undefined = record.invite.sdp,
): DialogRecord {
  const secure = record.requestUri.toLowerCase().startsWith('sips:');
  return {
    v: DIALOG_VERSION,
    call: record.call,
    role: 'uac',
    state: phase,
    phase,
    callId: record.callId,
    localTag: record.localTag,
    remoteTag: leg.remoteTag,
    localUri: record.localUri,
    remoteUri: leg.remoteUri,
    localTarget: record.localContact,
    remoteTarget: leg.remoteTarget,
    routeSet: leg.routeSet,
    localCseq: leg.localCseq,
    remoteCseq: 0,
    secure,
    invite: {
      txn: inviteTxnRef(record),
      cseq: record.invite.cseq,
      request: { vias: [], from: record.localUri, to: record.remoteUri, toHasTag: false, callId: record.callId, cseq: `${record.invite.cseq} INVITE` },
      recordRoute: [],
      finalStatus: 200,
    },
    reliable: { peerSupports: false, peerRequires: false, nextRseq: 1, pending: undefined, queued: [], deferredAnswer: undefined },
    localSdp,
    remoteSdp: leg.remoteSdp,
    pending2xx: undefined,
    hangupAfterAck: undefined,
    incoming: undefined,
    outgoing: undefined,
    timer,
    ended: undefined,
    createdAt: record.createdAt,
    updatedAt: now,
  };
}

/** A request on a leg (ACK, PRACK, BYE) with the given CSeq. */
export function legRequest(
  record: UacRecord,
  leg: LegInfo,
  method: string,
  cseq: number,
  purpose: UacRequest['purpose'],
  now: number,
  headers: readonly Header[] = [],
  sdp?: string,
): UacRequest {
  const body = sdp === undefined ? {} : { body: { contentType: 'application/sdp', content: sdp } };
  const spec = inDialogRequest(legDialog(record, leg, now, undefined, 'early'), method, cseq, { headers, ...body });
  return { ...spec, purpose };
}

/** Collects the outputs of one UAC transition. */
export class UacOut {
  record: UacRecord;
  changed = false;
  readonly requests: UacRequest[] = [];
  readonly responses: UacTransition['responses'][number][] = [];
  readonly events: UacEvent[] = [];
  readonly timers: UacTimerSpec[] = [];
  readonly cancelTimers: UacTimerName[] = [];
  failedTarget: UacTarget | undefined;

  constructor(record: UacRecord) {
    this.record = record;
  }

  set(patch: Partial<UacRecord>, now: number): UacRecord {
    this.record = { ...this.record, ...patch, updatedAt: now };
    this.changed = true;
    return this.record;
  }

  arm(name: UacTimerName, at: number): void {
    this.timers.push({ name, at });
  }

  cancel(...names: UacTimerName[]): void {
    this.cancelTimers.push(...names);
  }

  done(): UacTransition {
    return {
      record: this.record,
      changed: this.changed,
      requests: this.requests,
      responses: this.responses,
      events: this.events,
      timers: this.timers,
      cancelTimers: this.cancelTimers,
      ...(this.failedTarget === undefined ? {} : { failedTarget: this.failedTarget }),
    };
  }
}

/** Timers of the UAC session proper (the dialog core's are cancelled by its own transitions). */
export const UAC_TIMERS: readonly UacTimerName[] = ['ring-timeout', 'cancel-timeout', 'answer-timeout'];

/**
 * The 2xx of `leg` was ACKed (`ack`): the dialog is confirmed (§13.2.2.4) and handled by the dialog
 * core from now on; the session timer the 2xx asked for is armed. `localSdp`: see `legDialog`.
 */
export function confirmLeg(out: UacOut, leg: LegInfo, ack: UacRequest, status: number, timer: SessionTimer | undefined, now: number, localSdp?: string): void {
  const record = out.record;
  const dialog = legDialog(record, leg, now, timer, 'confirmed', localSdp ?? record.invite.sdp);
  out.set({ phase: 'confirmed', answered: { remoteTag: leg.remoteTag, ack }, awaiting: undefined, dialog, early: [], finalStatus: status }, now);
  out.cancel('ring-timeout', 'cancel-timeout');
  if (timer !== undefined) {
    if (timer.refresher === 'local') out.arm('session-refresh', refreshAt(timer, now));
    else out.arm('session-expire', expireAt(timer, now));
  }
}

/** Ends the session before a dialog was confirmed. */
export function endSession(out: UacOut, now: number, cause: string, event: UacEvent['event'], status?: number, reason?: string): void {
  out.set({ phase: 'ended', early: [], cancel: undefined, awaiting: undefined, ended: { cause, status, at: now }, ...(status === undefined ? {} : { finalStatus: status }) }, now);
  out.cancel(...UAC_TIMERS);
  out.events.push({ event, cause, ...(status === undefined ? {} : { status }), ...(reason === undefined ? {} : { reason }) });
}
