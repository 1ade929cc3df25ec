/**
 * Session timers (RFC 4028) for a UAS: negotiation of the interval and refresher from the INVITE,
 * and when to refresh or give up.
 */
import type { RequestView, Header } from '../sip-view.js';
import type { SessionTimer } from './types.js';

export type TimerNegotiation =
  | { readonly kind: 'none' }
  | { readonly kind: 'reject'; readonly minSE: number }
  | { readonly kind: 'use'; readonly timer: SessionTimer };

/**
 * RFC 4028 §9: an interval below our Min-SE gets 422; otherwise the interval is the smaller of
 * ours and the peer's (never below either Min-SE); the refresher is the peer's choice, else the
 * UAC when it supports timers, else us.
 */
export function negotiateSessionTimer(
  request: Pick<RequestView, 'sessionExpires' | 'minSE' | 'supported'>,
  ours: { readonly sessionExpires: number; readonly minSE: number },
): TimerNegotiation {
  const peerSupports = request.supported.some((t) => t.toLowerCase() === 'timer');
  const asked = request.sessionExpires;
  if (asked !== undefined && asked.delta < ours.minSE) return { kind: 'reject', minSE: ours.minSE };
  if (ours.sessionExpires <= 0 && asked === undefined) return { kind: 'none' };
  const floor = Math.max(ours.minSE, request.minSE ?? 0);
  const preferred = ours.sessionExpires > 0 ? ours.sessionExpires : (asked?.delta ?? 0);
  const interval = Math.max(floor, asked === undefined ? preferred : Math.min(asked.delta, preferred));
  let refresherParam: 'uac' | 'uas';
  const peerChoice = asked?.refresher?.toLowerCase();
  if (peerChoice === 'uac' || peerChoice === 'uas') refresherParam = peerChoice;
  else refresherParam = peerSupports ? 'uac' : 'uas';
  return { kind: 'use', timer: { interval, refresherParam, refresher: refresherParam === 'uas' ? 'local' : 'remote', peerSupports } };
}

/** Session-Expires (and Require: timer when the peer supports it) for our 2xx (RFC 4028 §9). */
export function sessionTimerHeaders(timer: SessionTimer): Header[] {
  const headers: Header[] = [['Session-Expires', `${timer.interval};refresher=${timer.refresherParam}`]];
  if (timer.peerSupports) headers.push(['Require', 'timer']);
  return headers;
}

/** When the refresher sends its refresh: at half the interval (§7.1). */
export function refreshAt(timer: SessionTimer, now: number): number {
  return now + Math.floor((timer.interval * 1000) / 2);
}

/** When the non-refresher gives up: interval minus min(32 s, interval / 3) (§10). */
export function expireAt(timer: SessionTimer, now: number): number {
  return now + (timer.interval - Math.min(32, Math.floor(timer.interval / 3))) * 1000;
}
