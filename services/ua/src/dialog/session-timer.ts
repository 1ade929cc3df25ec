/**
 * Session timers (RFC 4028) for a UAS: negotiation of the interval and refresher from the INVITE,
 * and when to refresh or give up.
 */
import type { RequestView, Header, ResponseView } from '../sip-view.js';
import type { SessionTimer } from './types.js';

export type TimerNegotiation =
  | { readonly kind: 'none' }
  | { readonly kind: 'reject'; readonly minSE: number }
  | { readonly kind: 'use'; readonly timer: SessionTimer };

/**
 * RFC 4028 §9: an interval below our Min-SE gets 422; otherwise the interval is the smaller of
 * ours and the peer's (never below either Min-SE); the refresher is us when the UAC does not support
 * timers, else the peer's choice, else the UAC.
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
  // §9: a UAC that does not support timers cannot refresh (a proxy may have asked for `uac`), and
  // without Require: timer in our 2xx it would not even learn it should: we refresh.
  if (!peerSupports) refresherParam = 'uas';
  else if (peerChoice === 'uac' || peerChoice === 'uas') refresherParam = peerChoice;
  else refresherParam = 'uac';
  return { kind: 'use', timer: { interval, refresherParam, refresher: refresherParam === 'uas' ? 'local' : 'remote', peerSupports } };
}

/**
 * The refresher parameter as seen from one transaction (RFC 4028 §4, §7.4, §9): `uac` names the
 * sender of that request, `uas` its receiver. So it depends on who sends the request, not on who
 * sent the initial INVITE: when we refresh (`local`), our own re-INVITE/UPDATE says `uac` and our
 * 2xx to the peer's says `uas`.
 */
export function refresherRole(timer: SessionTimer, we: 'uac' | 'uas'): 'uac' | 'uas' {
  if (timer.refresher === 'local') return we;
  return we === 'uac' ? 'uas' : 'uac';
}

/** Session-Expires for a request we send (we are the UAC of that transaction). */
export function sessionExpiresForRequest(timer: SessionTimer): string {
  return `${timer.interval};refresher=${refresherRole(timer, 'uac')}`;
}

/** Session-Expires (and Require: timer when the peer supports it) for our 2xx (RFC 4028 §9). */
export function sessionTimerHeaders(timer: SessionTimer): Header[] {
  const headers: Header[] = [['Session-Expires', `${timer.interval};refresher=${refresherRole(timer, 'uas')}`]];
  if (timer.peerSupports) headers.push(['Require', 'timer']);
  return headers;
}

/** When the refresher sends its refresh: at half the interval (§7.1). */
export function refreshAt(timer: SessionTimer, now: number): number {
  return now + Math.floor((timer.interval * 1000) / 2);
}

/**
 * When we try again after a refresh that failed (a non-2xx other than 491, 481 and 408, §10):
 * halfway to when the peer gives the session up, counted from the refresh, sent at half the
 * interval.
 */
export function refreshRetryAt(timer: SessionTimer, now: number): number {
  const left = expireAt(timer, 0) - refreshAt(timer, 0);
  return now + Math.max(1000, Math.floor(left / 2));
}

/** When the non-refresher gives up: interval minus min(32 s, interval / 3) (§10). */
export function expireAt(timer: SessionTimer, now: number): number {
  return now + (timer.interval - Math.min(32, Math.floor(timer.interval / 3))) * 1000;
}

/** Largest Min-SE of a 422 we act on, seconds (as SIPNATS_MIN_SE: a day). */
export const MAX_MIN_SE = 86_400;

/**
 * The Min-SE of a 422 (RFC 4028 §6: it must carry one), when it is a usable interval: at least
 * 90 s (§5) and at most MAX_MIN_SE. A malformed header is no Min-SE.
 */
export function minSEOf(response: Pick<ResponseView, 'minSE'>): number | undefined {
  let v: number | undefined;
  try {
    v = response.minSE;
  } catch {
    return undefined;
  }
  return v !== undefined && Number.isInteger(v) && v >= 90 && v <= MAX_MIN_SE ? v : undefined;
}
