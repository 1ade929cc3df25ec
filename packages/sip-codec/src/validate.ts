/**
 * Eager checks of parseMessage: the headers every request and response needs (RFC 3261 §8.1.1,
 * §16.3), on bytes, without decoding. What they find (where the first Via, From, To, Call-ID and
 * CSeq are, CSeq's number and method) is kept in the message layout so that the accessors do not
 * search or parse those headers a second time.
 */
import { SipErrorCode, SipParseError } from './errors.js';
import { H } from './header-names.js';
import { checkCSeq, checkNameAddr, checkTopVia, cseqFound } from './check.js';
import { NAME_ADDR_SLOTS, scanNameAddr } from './fast-name-addr.js';
import { VIA_SLOTS, scanTopVia } from './fast-via.js';
import { FOLDED, HS, ID_FLAGS, ID_MASK, LINE_START, NAME_END, VALUE_END, VALUE_START, latin1, type HeaderTable } from './raw-headers.js';

const SP = 0x20;

type Kind = 'request' | 'response';

/**
 * Slots of what validation found (an array per message, copied from `found`): header-table
 * indices of the first Via, From, To, Call-ID, CSeq; CSeq's number and method bytes, and whether
 * only SP/HT separate them (the check also lets CR/LF of folding through, which the general
 * parser does not take when they stand alone, so then the accessor parses); and for the
 * top Via, From and To whether the fast path's scan accepted them (1/0) and what it recorded.
 */
export const E = {
  VIA: 0, FROM: 1, TO: 2, CALL_ID: 3, CSEQ: 4, CSEQ_SEQ: 5, CSEQ_METHOD_START: 6, CSEQ_METHOD_END: 7, CSEQ_FAST: 8,
  VIA_FAST: 9, VIA_SCAN: 10,
  FROM_FAST: 10 + VIA_SLOTS, FROM_SCAN: 11 + VIA_SLOTS,
  TO_FAST: 11 + VIA_SLOTS + NAME_ADDR_SLOTS, TO_SCAN: 12 + VIA_SLOTS + NAME_ADDR_SLOTS,
  SIZE: 12 + VIA_SLOTS + 2 * NAME_ADDR_SLOTS,
} as const;

/** The result of the last validateHeaders call (module-level: no allocation per message). */
export const found: number[] = Array.from({ length: E.SIZE }, () => 0);

function err(code: SipParseError['code'], message: string, offset: number, kind: Kind): SipParseError {
  return new SipParseError(code, message, { offset, messageKind: kind });
}

function unfolded(h: HeaderTable, i: number): boolean {
  return ((h[i * HS + ID_FLAGS] as number) & FOLDED) === 0;
}

function sameValue(buf: Buffer, h: HeaderTable, a: number, b: number): boolean {
  const sa = h[a * HS + VALUE_START] as number, ea = h[a * HS + VALUE_END] as number;
  const sb = h[b * HS + VALUE_START] as number, eb = h[b * HS + VALUE_END] as number;
  if (ea - sa !== eb - sb) return false;
  for (let i = 0; i < ea - sa; i++) if (buf[sa + i] !== buf[sb + i]) return false;
  return true;
}

/** Refuses a second From, To, Call-ID, CSeq or Max-Forwards whose value differs from the first. */
function checkDuplicates(buf: Buffer, h: HeaderTable, count: number, kind: Kind): void {
  let from = -1, to = -1, callId = -1, cseq = -1, maxFwd = -1;
  for (let i = 0; i < count; i++) {
    const id = (h[i * HS + ID_FLAGS] as number) & ID_MASK;
    let first: number;
    switch (id) {
      case H.FROM: first = from; if (from < 0) from = i; break;
      case H.TO: first = to; if (to < 0) to = i; break;
      case H.CALL_ID: first = callId; if (callId < 0) callId = i; break;
      case H.CSEQ: first = cseq; if (cseq < 0) cseq = i; break;
      case H.MAX_FORWARDS: first = maxFwd; if (maxFwd < 0) maxFwd = i; break;
      default: continue;
    }
    if (first >= 0 && !sameValue(buf, h, first, i)) {
      const ls = h[i * HS + LINE_START] as number;
      throw err(SipErrorCode.DUPLICATE_HEADER, `${latin1(buf, ls, h[i * HS + NAME_END] as number)} appears more than once`, ls, kind);
    }
  }
}

/**
 * Checks the headers of a parsed header table and fills `found` (see E). `methodStart/End` are the
 * request method's bytes (unused for responses); `blankStart` is where a missing header is
 * reported. `first` holds, by header id (Via..Max-Forwards), the table index of the header's
 * first line or -1, as the parser recorded it; `repeated` says whether one of From..Max-Forwards
 * occurs more than once, in which case the table is walked again to compare the copies.
 * `allowMissingVia` lets a request without Via through (found[E.VIA] is then -1).
 */
export function validateHeaders(
  buf: Buffer, h: HeaderTable, count: number, kind: Kind, methodStart: number, methodEnd: number, blankStart: number,
  first: readonly number[], repeated: boolean, allowMissingVia: boolean,
): void {
  const via = first[H.VIA] as number, from = first[H.FROM] as number, to = first[H.TO] as number;
  const callId = first[H.CALL_ID] as number, cseq = first[H.CSEQ] as number, maxFwd = first[H.MAX_FORWARDS] as number;
  if (repeated) checkDuplicates(buf, h, count, kind);

  const noVia = via < 0 && (!allowMissingVia || kind !== 'request');
  const missing = noVia ? 'Via' : from < 0 ? 'From' : to < 0 ? 'To' : callId < 0 ? 'Call-ID' : cseq < 0 ? 'CSeq' : '';
  if (missing !== '') throw err(SipErrorCode.MISSING_HEADER, `missing ${missing} header`, blankStart, kind);
  // Top Via, From, To: the fast path's scan, when it accepts, proves the value valid (it accepts
  // a subset of what the full parsers accept, which the checks accept too) and records what the
  // accessors need; otherwise the byte checks decide.
  let s: number;
  let e: number;
  if (via >= 0) {
    s = h[via * HS + VALUE_START] as number;
    e = h[via * HS + VALUE_END] as number;
    found[E.VIA_FAST] = unfolded(h, via) && scanTopVia(buf, s, e, found, E.VIA_SCAN) ? 1 : 0;
    if (found[E.VIA_FAST] === 0 && !checkTopVia(buf, s, e)) throw err(SipErrorCode.VIA, 'malformed top Via', s, kind);
  } else found[E.VIA_FAST] = 0; // the topVia accessor then finds no Via and says so
  s = h[from * HS + VALUE_START] as number;
  e = h[from * HS + VALUE_END] as number;
  found[E.FROM_FAST] = unfolded(h, from) && scanNameAddr(buf, s, e, found, E.FROM_SCAN) ? 1 : 0;
  if (found[E.FROM_FAST] === 0 && !checkNameAddr(buf, s, e)) throw err(SipErrorCode.NAME_ADDR, 'malformed From', s, kind);
  s = h[to * HS + VALUE_START] as number;
  e = h[to * HS + VALUE_END] as number;
  found[E.TO_FAST] = unfolded(h, to) && scanNameAddr(buf, s, e, found, E.TO_SCAN) ? 1 : 0;
  if (found[E.TO_FAST] === 0 && !checkNameAddr(buf, s, e)) throw err(SipErrorCode.NAME_ADDR, 'malformed To', s, kind);
  s = h[callId * HS + VALUE_START] as number;
  e = h[callId * HS + VALUE_END] as number;
  if (s === e) throw err(SipErrorCode.HEADER_VALUE, 'Call-ID is empty', s, kind);
  for (let i = s; i < e; i++) {
    const c = buf[i] as number;
    if (c <= SP || c === 0x7f) throw err(SipErrorCode.HEADER_VALUE, 'Call-ID contains LWS or a control character', i, kind);
  }
  s = h[cseq * HS + VALUE_START] as number;
  const me = h[cseq * HS + VALUE_END] as number;
  if (!checkCSeq(buf, s, me)) throw err(SipErrorCode.CSEQ, `CSeq is not "number method" with a number below 2^32`, s, kind);
  const ms = cseqFound.methodStart;
  if (kind === 'request') {
    let same = me - ms === methodEnd - methodStart;
    for (let i = 0; same && i < me - ms; i++) same = buf[ms + i] === buf[methodStart + i];
    if (!same) throw err(SipErrorCode.CSEQ_METHOD, `CSeq method ${latin1(buf, ms, me)} differs from the request method`, ms, kind);
  }
  if (maxFwd >= 0) {
    s = h[maxFwd * HS + VALUE_START] as number;
    e = h[maxFwd * HS + VALUE_END] as number;
    let v = 0;
    for (let i = s; i < e; i++) {
      const c = buf[i] as number;
      if (c < 0x30 || c > 0x39 || e - s > 10) throw err(SipErrorCode.MAX_FORWARDS, 'Max-Forwards is not a number', i, kind);
      v = v * 10 + (c - 0x30);
    }
    if (s === e || v > 255) throw err(SipErrorCode.MAX_FORWARDS, 'Max-Forwards is not in 0..255', s, kind);
  }
  found[E.VIA] = via;
  found[E.FROM] = from;
  found[E.TO] = to;
  found[E.CALL_ID] = callId;
  found[E.CSEQ] = cseq;
  found[E.CSEQ_SEQ] = cseqFound.seq;
  found[E.CSEQ_METHOD_START] = ms;
  found[E.CSEQ_METHOD_END] = me;
  let k = ms - 1;
  while (buf[k] === SP || buf[k] === 0x09) k--;
  found[E.CSEQ_FAST] = (buf[k] as number) >= 0x30 && (buf[k] as number) <= 0x39 ? 1 : 0;
}
