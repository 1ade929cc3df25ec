/**
 * Steps shared by the UAC handlers: a new INVITE attempt (auth retry, failover), a CANCEL request
 * (§9.1: sent only once a provisional arrived), and Q.850 causes of final responses.
 */
import { t1 } from '../dialog/builders.js';
import type { Header } from '../sip-view.js';
import { cancelRequest, inviteRequest } from './builders.js';
import type { UacOut } from './builders.js';
import type { CancelState, UacConfig, UacRecord } from './types.js';

/** A new INVITE client transaction: CSeq + 1, the same Call-ID and From tag (§8.1.3.5, §22.2). */
export function newAttempt(out: UacOut, now: number, patch: Partial<Pick<UacRecord, 'auth' | 'targetIndex'>>): void {
  const r = out.record;
  const next = out.set({ ...patch, phase: 'calling', early: [], invite: { ...r.invite, cseq: r.invite.cseq + 1, attempt: r.invite.attempt + 1 } }, now);
  out.requests.push(inviteRequest(next));
}

/** Asks for a CANCEL: sent now after a provisional, else when the first provisional arrives. */
export function requestCancel(config: UacConfig, out: UacOut, now: number, cause: string, reason: string | undefined, event: CancelState['event']): void {
  const sendNow = out.record.phase === 'early';
  out.set({ phase: 'cancelling', cancel: { cause, reason, event, sent: sendNow, requestedAt: now } }, now);
  if (sendNow) out.requests.push(cancelRequest(out.record, cause, reason));
  out.cancel('ring-timeout');
  // §9.1: without a final response 64*T1 after the CANCEL, the INVITE transaction is given up.
  out.arm('cancel-timeout', now + 64 * t1(config));
}

/** Sends a CANCEL that waited for a provisional response. */
export function flushCancel(out: UacOut, now: number): void {
  const c = out.record.cancel;
  if (out.record.phase !== 'cancelling' || c === undefined || c.sent) return;
  out.set({ cancel: { ...c, sent: true } }, now);
  out.requests.push(cancelRequest(out.record, c.cause, c.reason));
}

/** The credentials headers of the current INVITE (ACK for a 2xx repeats them, §13.2.2.4). */
export function authHeaders(record: UacRecord): Header[] {
  return record.auth.map((a) => a.header);
}

const CAUSES: Readonly<Record<number, string>> = {
  404: 'UNALLOCATED_NUMBER',
  604: 'UNALLOCATED_NUMBER',
  408: 'RECOVERY_ON_TIMER_EXPIRE',
  480: 'NO_USER_RESPONSE',
  486: 'USER_BUSY',
  600: 'USER_BUSY',
  487: 'ORIGINATOR_CANCEL',
  488: 'INCOMPATIBLE_DESTINATION',
  606: 'INCOMPATIBLE_DESTINATION',
  403: 'CALL_REJECTED',
  603: 'CALL_REJECTED',
  503: 'NORMAL_TEMPORARY_FAILURE',
  502: 'NETWORK_OUT_OF_ORDER',
  504: 'RECOVERY_ON_TIMER_EXPIRE',
};

/** The Q.850 cause name for a final status (RFC 3398 §7.2.4.1 mapping, simplified). */
export function causeOf(status: number): string {
  const known = CAUSES[status];
  if (known !== undefined) return known;
  if (status >= 300 && status < 400) return 'REDIRECTED';
  return 'NORMAL_UNSPECIFIED';
}

/** 0..1 from a random byte source (for the dialog core's glare back-off). */
export function unitRandom(random: (size: number) => Uint8Array): () => number {
  return () => Buffer.from(random(4)).readUInt32BE(0) / 0x1_0000_0000;
}
