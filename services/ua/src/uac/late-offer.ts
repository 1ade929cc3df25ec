/**
 * Late offer on the UAC side (RFC 3261 §13.2.1, §13.2.2.4; RFC 3264 §5, §6): the INVITE carried
 * no SDP, so the 2xx carries the offer and the ACK the answer.
 * - The first 2xx is not ACKed at once: the session waits in phase `answered` (event `answered`
 *   with the offer) for the answer, the controller's `answer` command or, for a bridge leg, the
 *   answer the caller put in its ACK, at most 64·T1 (as long as the peer retransmits its 2xx,
 *   §13.3.1.4); then it is ACKed with that answer and the dialog is confirmed (event `confirmed`).
 * - A 2xx whose offer is not taken (hangup or timeout while waiting, another fork, one that raced a
 *   CANCEL) is ACKed with an answer that refuses every stream (port 0, RFC 3264 §6) and BYEd:
 *   §13.2.2.4 asks a UAC that cannot accept an offer for a valid answer in the ACK, then a BYE.
 * - A 2xx without an offer breaks the offer/answer exchange: ACK, BYE, `failed`.
 * The INVITE does not offer 100rel (start.ts): an offer in a reliable provisional would need its
 * answer in the PRACK, which this UAC does not give.
 */
import { t1 } from '../dialog/builders.js';
import { NO_SDP_ANSWER_CAUSE, reasonHeader } from '../dialog/commands.js';
import type { SessionTimer } from '../dialog/types.js';
import { confirmLeg, endSession, legRequest } from './builders.js';
import type { LegInfo, UacOut } from './builders.js';
import { authHeaders } from './session.js';
import type { UacConfig, UacRecord, UacRequest } from './types.js';

/** An SDP token as it came (visible ASCII only), else the fallback. */
function token(value: string | undefined, fallback: string): string {
  return value !== undefined && /^[\x21-\x7e]{1,64}$/.test(value) ? value : fallback;
}

/**
 * An answer refusing every stream of `offer` (RFC 3264 §6): one m= line per offered one, same
 * media and transport, port 0, its first format (SDP wants one). Nothing of the offer but those
 * tokens is copied; the result is as long as the offer's m= lines allow (the offer is bounded).
 */
export function refusingAnswer(offer: string, now: number): string {
  const version = Math.floor(now / 1000);
  const lines = ['v=0', `o=- ${version} ${version} IN IP4 0.0.0.0`, 's=-', 'c=IN IP4 0.0.0.0', 't=0 0'];
  for (const line of offer.split(/\r?\n/)) {
    if (!line.startsWith('m=')) continue;
    const [media, , proto, format] = line.slice(2).trim().split(/\s+/);
    lines.push(`m=${token(media, 'audio')} 0 ${token(proto, 'RTP/AVP')} ${token(format, '0')}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The ACK for a 2xx we do not take: with a refusing answer when it carried the offer of a late offer. */
export function ackRefusing(record: UacRecord, leg: LegInfo, now: number): UacRequest {
  const offer = record.invite.sdp === undefined ? leg.remoteSdp : undefined;
  return legRequest(record, leg, 'ACK', leg.localCseq, 'ack', now, authHeaders(record), offer === undefined ? undefined : refusingAnswer(offer, now));
}

/** The first 2xx to a late offer: wait for the answer (or ACK and BYE a 2xx without an offer). */
export function awaitAnswer(config: UacConfig, out: UacOut, leg: LegInfo, status: number, timer: SessionTimer | undefined, now: number): void {
  const record = out.record;
  const offer = leg.remoteSdp;
  if (offer === undefined) {
    const reason = 'the 2xx to an INVITE without SDP carried no offer';
    const ack = legRequest(record, leg, 'ACK', leg.localCseq, 'ack', now, authHeaders(record));
    out.requests.push(ack, legRequest(record, leg, 'BYE', leg.localCseq + 1, 'bye', now, [reasonHeader(NO_SDP_ANSWER_CAUSE, reason)]));
    out.set({ answered: { remoteTag: leg.remoteTag, ack }, finalStatus: status }, now);
    endSession(out, now, NO_SDP_ANSWER_CAUSE, 'failed', undefined, reason);
    return;
  }
  out.set({ phase: 'answered', awaiting: { leg: { ...leg, remoteSdp: offer }, status, timer }, early: [], finalStatus: status }, now);
  out.cancel('ring-timeout', 'cancel-timeout');
  out.arm('answer-timeout', now + 64 * t1(config));
  out.events.push({ event: 'answered', status, sdp: offer });
}

/** The answer arrived: the ACK carries it and the dialog is confirmed. */
export function ackWithAnswer(out: UacOut, sdp: string, now: number): void {
  const record = out.record;
  const awaiting = record.awaiting;
  if (record.phase !== 'answered' || awaiting === undefined) return;
  const leg = awaiting.leg;
  const ack = legRequest(record, leg, 'ACK', leg.localCseq, 'ack', now, authHeaders(record), sdp);
  out.requests.push(ack);
  confirmLeg(out, leg, ack, awaiting.status, awaiting.timer, now, sdp);
  out.cancel('answer-timeout');
  out.events.push({ event: 'confirmed' });
}

/** No answer will come (hangup, timeout): ACK refusing the offer, then BYE (§13.2.2.4). */
export function abandonAnswer(out: UacOut, cause: string, reason: string | undefined, now: number): void {
  const record = out.record;
  const awaiting = record.awaiting;
  if (record.phase !== 'answered' || awaiting === undefined) return;
  const leg = awaiting.leg;
  const ack = ackRefusing(record, leg, now);
  out.requests.push(ack, legRequest(record, leg, 'BYE', leg.localCseq + 1, 'bye', now, [reasonHeader(cause, reason)]));
  out.set({ answered: { remoteTag: leg.remoteTag, ack } }, now);
  endSession(out, now, cause, 'ended', undefined, reason);
}
