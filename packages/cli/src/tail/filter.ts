/**
 * Filters of `sipnats tail`. Different options combine with AND; repeating one option (or giving it a
 * comma list) combines its values with OR. A filter on a SIP field never matches a malformed message.
 */
import type { RawRecord } from './raw-record.js';

export interface FilterSpec {
  readonly callIds?: readonly string[];
  /** Request method, or the CSeq method of a response; compared case-insensitively. */
  readonly methods?: readonly string[];
  /** User part of From or To. */
  readonly users?: readonly string[];
  readonly instances?: readonly string[];
  /** `486`, `4xx`, `2xx`...: matches responses only. */
  readonly statuses?: readonly StatusPattern[];
}

/** A status code, or a class (`4xx`: 400..499). */
export type StatusPattern = { readonly code: number } | { readonly cls: number };

export class FilterError extends Error {
  readonly code = 'SIPNATS_ERR_FILTER';
}

/** Parses `486`, `4xx`/`4XX`; throws FilterError for anything else. */
export function parseStatusPattern(text: string): StatusPattern {
  const t = text.trim().toLowerCase();
  if (/^[1-6]xx$/.test(t)) return { cls: Number(t[0]) };
  if (/^[1-6][0-9]{2}$/.test(t)) return { code: Number(t) };
  throw new FilterError(`invalid status ${JSON.stringify(text)}: use a code such as 486 or a class such as 4xx`);
}

function statusMatches(status: number, p: StatusPattern): boolean {
  return 'code' in p ? status === p.code : Math.floor(status / 100) === p.cls;
}

function anyOf<T>(values: readonly T[] | undefined, test: (v: T) => boolean): boolean {
  return values === undefined || values.length === 0 || values.some(test);
}

/** True when every given filter accepts the record. */
export function matchesFilter(r: RawRecord, f: FilterSpec): boolean {
  if (!anyOf(f.instances, (i) => i === r.instance)) return false;
  const needsSip = [f.callIds, f.methods, f.users, f.statuses].some((v) => v !== undefined && v.length > 0);
  if (!needsSip) return true;
  if (!r.outcome.ok) return false;
  const sip = r.outcome.sip;
  if (!anyOf(f.callIds, (c) => c === sip.callId)) return false;
  const method = (sip.method ?? sip.cseq.method).toUpperCase();
  if (!anyOf(f.methods, (m) => m.toUpperCase() === method)) return false;
  if (!anyOf(f.users, (u) => u === sip.fromUser || u === sip.toUser)) return false;
  const status = sip.status;
  if (!anyOf(f.statuses, (p) => status !== undefined && statusMatches(status, p))) return false;
  return true;
}

/** Splits repeated options and comma lists into trimmed, non-empty values. */
export function splitValues(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t.length > 0) out.push(t);
    }
  }
  return out;
}
