/**
 * Responses to the requests of an outbound call. INVITE responses drive the session:
 * - 1xx: early dialogs per To tag (§12.1.2), events `progress` / `ringing` / `early` (with SDP),
 *   PRACK for a reliable provisional (RFC 3262 §4: RSeq in order, retransmissions ignored), and a
 *   CANCEL that waited for the first provisional (§9.1).
 * - 401/407: one retry with credentials per challenge set (status and realm); a second challenge
 *   for the same set fails the call unless it is `stale=true` (once), so a wrong password never
 *   loops (§22.2, RFC 7616 §3.3).
 * - 422: once more with Session-Expires and Min-SE raised to the 422's Min-SE (RFC 4028 §7.3).
 * - 503 (and, through `handleUacLocalFinal`, a transport timeout) before any provisional: the next
 *   RFC 3263 target, with the failed one reported for the blacklist (RFC 3263 §4.3).
 * - Other 3xx–6xx: `failed` (the transport's transaction layer ACKs non-2xx, §17.1.1.3).
 * - 2xx: the first To tag confirms the dialog (route set = Record-Route reversed, remote target =
 *   Contact, §12.1.2) and is ACKed here (§13.2.2.4); a 2xx of another To tag (forking) or one that
 *   raced our CANCEL is ACKed and BYEd (§13.2.2.4); a retransmitted 2xx gets the same ACK again.
 *   Late offer (an INVITE without SDP): the 2xx's ACK waits for the answer (late-offer.ts).
 * Responses to requests inside the confirmed dialog go to the dialog core.
 */
import { reasonHeader } from '../dialog/commands.js';
import { handleResponse } from '../dialog/in-dialog.js';
import { minSEOf } from '../dialog/session-timer.js';
import type { SessionTimer } from '../dialog/types.js';
import type { RandomSource } from '../ports.js';
import type { AuthValueView, Header, ResponseView, SessionExpiresView } from '../sip-view.js';
import { bodyText } from '../sip-view.js';
import { confirmLeg, currentTarget, endSession, inviteTxnRef, legRequest, UacOut } from './builders.js';
import type { LegInfo } from './builders.js';
import { adaptDialogTransition } from './in-dialog-adapter.js';
import { authHeaders, causeOf, flushCancel, newAttempt, unitRandom } from './session.js';
import { answerChallenge } from './challenge.js';
import { ackRefusing, awaitAnswer } from './late-offer.js';
import { MAX_EARLY_DIALOGS, MAX_FORKS } from './types.js';
import type { EarlyDialog, UacConfig, UacRecord, UacTransition } from './types.js';

/** What the UAC reads from a response; `@sipnats/sip-codec`'s SipResponse satisfies it. */
export interface UacResponseView extends ResponseView {
  readonly require: readonly string[];
  readonly rseq: number | undefined;
  readonly sessionExpires: SessionExpiresView | undefined;
  readonly wwwAuthenticate: readonly AuthValueView[];
  readonly proxyAuthenticate: readonly AuthValueView[];
}

export interface UacStepContext {
  readonly now: number;
  /** For cnonces (digest) and the glare back-off of the dialog core. */
  readonly random: RandomSource;
}

function sdpOf(response: Pick<ResponseView, 'contentType' | 'body'>): string | undefined {
  const type = response.contentType?.split(';')[0]?.trim().toLowerCase();
  return response.body.byteLength > 0 && type === 'application/sdp' ? bodyText(response.body) : undefined;
}

function legOf(response: UacResponseView, remoteTag: string, fallbackTarget: string, localCseq: number): LegInfo {
  return {
    remoteTag,
    remoteUri: response.to.raw,
    remoteTarget: response.contacts[0]?.uri.raw ?? fallbackTarget,
    routeSet: response.recordRoute.map((r) => r.raw).reverse(),
    localCseq,
    remoteSdp: sdpOf(response),
  };
}

export function handleUacResponse(config: UacConfig, record: UacRecord, response: UacResponseView, ctx: UacStepContext): UacTransition {
  const out = new UacOut(record);
  if (response.callId !== record.callId || response.from.tag !== record.localTag) return out.done();
  const method = response.cseq.method.toUpperCase();
  if (method === 'INVITE' && response.cseq.seq <= record.invite.cseq) {
    if (response.status < 200) onProvisional(out, response, ctx.now);
    else if (response.status < 300) onSuccess(config, out, response, ctx.now);
    else onFailure(out, response, ctx);
    return out.done();
  }
  const dialog = record.dialog;
  if (dialog !== undefined && method !== 'PRACK' && method !== 'CANCEL' && response.to.tag === dialog.remoteTag) {
    return adaptDialogTransition(record, handleResponse(config, dialog, response, ctx.now, unitRandom(ctx.random)), ctx.now);
  }
  return out.done();
}

function onProvisional(out: UacOut, response: UacResponseView, now: number): void {
  const record = out.record;
  if (record.phase !== 'calling' && record.phase !== 'early' && record.phase !== 'cancelling') return;
  if (response.cseq.seq !== record.invite.cseq) return;
  if (record.phase === 'calling') out.set({ phase: 'early' }, now);
  const status = response.status;
  const sdp = sdpOf(response);
  const tag = response.to.tag;
  if (status > 100 && tag !== undefined) {
    const early = out.record.early;
    const index = early.findIndex((e) => e.remoteTag === tag);
    let leg: EarlyDialog | undefined = index >= 0 ? early[index] : undefined;
    if (leg === undefined && early.length < MAX_EARLY_DIALOGS) {
      leg = { ...legOf(response, tag, record.requestUri, record.invite.cseq), lastRseq: 0 };
    }
    const rseq = response.rseq;
    const reliable = rseq !== undefined && response.require.some((t) => t.toLowerCase() === '100rel');
    if (leg !== undefined && reliable) {
      // RFC 3262 §4: the first RSeq starts the sequence; then only last + 1 is new.
      if (leg.lastRseq !== 0 && rseq <= leg.lastRseq) return; // a retransmission: already PRACKed
      if (leg.lastRseq !== 0 && rseq !== leg.lastRseq + 1) return; // out of order: discard
      const cseq = leg.localCseq + 1;
      const updated: EarlyDialog = {
        ...leg,
        remoteTarget: response.contacts[0]?.uri.raw ?? leg.remoteTarget,
        localCseq: cseq,
        lastRseq: rseq,
        remoteSdp: sdp ?? leg.remoteSdp,
      };
      out.requests.push(legRequest(record, updated, 'PRACK', cseq, 'prack', now, [['RAck', `${rseq} ${response.cseq.seq} INVITE`]]));
      leg = updated;
    } else if (leg !== undefined) {
      leg = { ...leg, remoteTarget: response.contacts[0]?.uri.raw ?? leg.remoteTarget, remoteSdp: sdp ?? leg.remoteSdp };
    }
    if (leg !== undefined) {
      const next = [...out.record.early];
      if (index >= 0) next[index] = leg;
      else next.push(leg);
      out.set({ early: next }, now);
    }
  }
  flushCancel(out, now);
  if (status === 100 || out.record.phase === 'cancelling') return;
  if (sdp !== undefined) out.events.push({ event: 'early', status, sdp });
  else if (status === 180) out.events.push({ event: 'ringing', status });
  else out.events.push({ event: 'progress', status });
}

function sessionTimerOf(response: UacResponseView): SessionTimer | undefined {
  const se = response.sessionExpires;
  if (se === undefined || se.delta <= 0) return undefined;
  // RFC 4028 §7.4: the 2xx names the refresher; without one the UAC refreshes.
  const refresherParam = se.refresher?.toLowerCase() === 'uas' ? 'uas' : 'uac';
  return { interval: se.delta, refresherParam, refresher: refresherParam === 'uac' ? 'local' : 'remote', peerSupports: true };
}

function onSuccess(config: UacConfig, out: UacOut, response: UacResponseView, now: number): void {
  const record = out.record;
  const tag = response.to.tag;
  if (tag === undefined) return; // a 2xx without a To tag cannot be ACKed in a dialog; drop it.
  const acked = record.answered?.remoteTag === tag ? record.answered : record.forks.find((f) => f.remoteTag === tag);
  if (acked !== undefined) {
    out.requests.push(acked.ack); // §13.2.2.4: each retransmission of the 2xx gets the ACK again.
    return;
  }
  if (record.awaiting?.leg.remoteTag === tag) return; // late offer: its ACK waits for the answer.
  const seq = response.cseq.seq;
  const leg = legOf(response, tag, record.requestUri, seq);
  const open = record.answered === undefined && record.awaiting === undefined && (record.phase === 'calling' || record.phase === 'early');
  if (open && record.invite.sdp === undefined) {
    awaitAnswer(config, out, leg, response.status, sessionTimerOf(response), now);
    return;
  }
  // Late offer: a 2xx we cannot take carries an offer, and its ACK must carry an answer (§13.2.1).
  const ack = open ? legRequest(record, leg, 'ACK', seq, 'ack', now, authHeaders(record)) : ackRefusing(record, leg, now);
  out.requests.push(ack);

  if (!open) {
    // Another fork, or a 2xx that raced our CANCEL or came after the call ended: ACK and BYE.
    const cause = record.phase === 'cancelling' ? (record.cancel?.cause ?? 'ORIGINATOR_CANCEL') : 'NORMAL_CLEARING';
    const reason = record.answered === undefined && record.awaiting === undefined ? 'answered after CANCEL' : 'another fork answered first';
    out.requests.push(legRequest(record, leg, 'BYE', seq + 1, 'bye', now, [reasonHeader(cause, reason)]));
    if (record.forks.length < MAX_FORKS) out.set({ forks: [...record.forks, { remoteTag: tag, ack }] }, now);
    if (record.phase === 'cancelling') {
      const c = record.cancel;
      endSession(out, now, c?.cause ?? 'ORIGINATOR_CANCEL', c?.event ?? 'cancelled', response.status, reason);
    }
    return;
  }
  confirmLeg(out, leg, ack, response.status, sessionTimerOf(response), now);
  const sdp = leg.remoteSdp;
  out.events.push({ event: 'answered', status: response.status, ...(sdp === undefined ? {} : { sdp }) });
}

function onFailure(out: UacOut, response: UacResponseView, ctx: UacStepContext): void {
  const record = out.record;
  const { now } = ctx;
  const status = response.status;
  if (record.phase === 'answered' || record.phase === 'confirmed' || record.phase === 'ended' || response.cseq.seq !== record.invite.cseq) return;
  if (record.phase === 'cancelling') {
    const c = record.cancel;
    endSession(out, now, c?.cause ?? 'ORIGINATOR_CANCEL', c?.event ?? 'cancelled', status, c?.reason ?? response.reason);
    return;
  }
  if (status === 401 || status === 407) {
    onChallenge(out, status, status === 401 ? response.wwwAuthenticate : response.proxyAuthenticate, ctx, response.reason);
    return;
  }
  if (status === 422 && retryWithMinSE(out, response, now)) return;
  if (status === 503) {
    const target = currentTarget(record);
    if (target !== undefined) out.failedTarget = target;
    if (record.phase === 'calling' && record.targetIndex + 1 < record.targets.length) {
      newAttempt(out, now, { targetIndex: record.targetIndex + 1 });
      return;
    }
  }
  endSession(out, now, causeOf(status), 'failed', status, response.reason);
}

/**
 * RFC 4028 §6, §7.3: a 422 to our INVITE names the smallest session interval the peer (or a
 * proxy) takes in Min-SE; the INVITE goes again with Session-Expires and Min-SE raised to it,
 * once. False (the 422 fails the call) without a session timer, a usable Min-SE above ours, or
 * when it was retried already.
 */
function retryWithMinSE(out: UacOut, response: UacResponseView, now: number): boolean {
  const record = out.record;
  const minSE = minSEOf(response);
  const asked = sessionExpiresOf(record.invite.headers);
  if (record.invite.minSERetried === true || asked === undefined || minSE === undefined || minSE <= asked) return false;
  const headers = record.invite.headers.map(([name, value]): Header => {
    const n = name.toLowerCase();
    if (n === 'session-expires') return [name, String(minSE)];
    if (n === 'min-se') return [name, String(minSE)];
    return [name, value];
  });
  out.set({ invite: { ...record.invite, headers, minSERetried: true } }, now);
  newAttempt(out, now, {});
  return true;
}

/** The interval of our INVITE's Session-Expires (we write it as a bare number). */
function sessionExpiresOf(headers: readonly Header[]): number | undefined {
  const value = headers.find(([n]) => n.toLowerCase() === 'session-expires')?.[1];
  const n = value === undefined ? Number.NaN : Number.parseInt(value, 10);
  return Number.isInteger(n) ? n : undefined;
}

function onChallenge(out: UacOut, status: 401 | 407, challenges: readonly AuthValueView[], ctx: UacStepContext, reasonPhrase: string): void {
  const record = out.record;
  const answer = answerChallenge({
    status,
    challenges,
    answered: record.auth,
    credentials: record.credentials,
    method: 'INVITE',
    requestUri: record.requestUri,
    random: ctx.random,
  });
  if (answer.kind === 'fail') {
    endSession(out, ctx.now, 'AUTH_FAILED', 'failed', status, `${reasonPhrase}: ${answer.reason}`);
    return;
  }
  newAttempt(out, ctx.now, { auth: answer.auth });
}

/** A final response the transport made itself for the INVITE (408 on Timer B, 503 on a send error). */
export interface LocalFinal {
  /** The INVITE client transaction it ends (`UacRequest.txnRef`). */
  readonly txnRef: string;
  readonly status: number;
  readonly reason: string;
  readonly timeout?: boolean;
  readonly error?: string;
}

export function handleUacLocalFinal(_config: UacConfig, record: UacRecord, local: LocalFinal, now: number): UacTransition {
  const out = new UacOut(record);
  if (local.txnRef !== inviteTxnRef(record) || record.phase === 'answered' || record.phase === 'confirmed' || record.phase === 'ended') return out.done();
  const reason = local.error ?? local.reason;
  if (record.phase === 'cancelling') {
    const c = record.cancel;
    endSession(out, now, c?.cause ?? 'ORIGINATOR_CANCEL', c?.event ?? 'cancelled', local.status, reason);
    return out.done();
  }
  const unreachable = local.timeout === true || local.status === 503 || local.status === 408;
  const target = currentTarget(record);
  if (unreachable && target !== undefined) out.failedTarget = target;
  if (unreachable && record.phase === 'calling' && record.targetIndex + 1 < record.targets.length) {
    newAttempt(out, now, { targetIndex: record.targetIndex + 1 });
    return out.done();
  }
  endSession(out, now, local.timeout === true ? 'RECOVERY_ON_TIMER_EXPIRE' : causeOf(local.status), 'failed', local.status, reason);
  return out.done();
}
