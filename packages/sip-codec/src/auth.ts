/**
 * Authentication header values (RFC 3261 §20.7, §20.27, §20.28, §20.44; RFC 7616 Digest):
 * `scheme` followed by comma-separated auth-params, or a token68. Unknown schemes are kept.
 */
import { SipErrorCode } from './errors.js';
import { endOfQuoted, fail, isTokenChar, skipWsp, trimEndWsp, unquote } from './scan.js';
import type { AuthValue } from './types.js';

/** Parses one challenge or credentials value (a header line's whole value). */
export function parseAuthValue(raw: string): AuthValue {
  const s = raw;
  const n = s.length;
  let i = skipWsp(s, 0, n);
  const ss = i;
  while (i < n && isTokenChar(s.charCodeAt(i))) i++;
  if (i === ss) fail(SipErrorCode.HEADER_VALUE, 'auth: missing scheme');
  const scheme = s.slice(ss, i);
  const params = new Map<string, string>();
  i = skipWsp(s, i, n);
  if (i >= n) return { raw, scheme, params, token68: undefined };
  // token68: one run of token68 characters with no '=' except trailing padding.
  let j = i;
  while (j < n && isToken68Char(s.charCodeAt(j))) j++;
  let k = j;
  while (k < n && s.charCodeAt(k) === 0x3d) k++;
  if (trimEndWsp(s, k, n) === k && (k === n || k > j) && !isParamStart(s, i, n)) {
    return { raw, scheme, params, token68: s.slice(i, trimEndWsp(s, i, n)) };
  }
  while (i < n) {
    const ns = i;
    while (i < n && isTokenChar(s.charCodeAt(i))) i++;
    if (i === ns) fail(SipErrorCode.HEADER_VALUE, `auth: expected parameter name at "${s.slice(i, i + 16)}"`);
    const name = s.slice(ns, i).toLowerCase();
    i = skipWsp(s, i, n);
    if (i >= n || s.charCodeAt(i) !== 0x3d) fail(SipErrorCode.HEADER_VALUE, `auth: parameter ${name} has no value`);
    i = skipWsp(s, i + 1, n);
    let value: string;
    if (i < n && s.charCodeAt(i) === 0x22) {
      const q = endOfQuoted(s, i, n);
      if (q < 0) fail(SipErrorCode.HEADER_VALUE, `auth: unterminated quoted value of ${name}`);
      value = unquote(s, i, q);
      i = q;
    } else {
      const vs = i;
      while (i < n && s.charCodeAt(i) !== 0x2c && s.charCodeAt(i) !== 0x20 && s.charCodeAt(i) !== 0x09) i++;
      value = s.slice(vs, i);
    }
    if (!params.has(name)) params.set(name, value);
    i = skipWsp(s, i, n);
    if (i < n) {
      if (s.charCodeAt(i) !== 0x2c) fail(SipErrorCode.HEADER_VALUE, `auth: expected ',' after ${name}`);
      i = skipWsp(s, i + 1, n);
    }
  }
  return { raw, scheme, params, token68: undefined };
}

function isToken68Char(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x2b || c === 0x2f
  );
}

function isParamStart(s: string, i: number, n: number): boolean {
  while (i < n && isTokenChar(s.charCodeAt(i))) i++;
  i = skipWsp(s, i, n);
  return i < n && s.charCodeAt(i) === 0x3d && i + 1 < n && s.charCodeAt(i + 1) !== 0x3d;
}

/** Formats a Digest-style value: `scheme k="v", k2=v2` (quoted when `quoted` says so). */
export function formatAuthValue(scheme: string, params: ReadonlyArray<readonly [string, string, boolean]>): string {
  const parts = params.map(([k, v, quoted]) => (quoted ? `${k}="${v.replace(/[\\"]/g, (m) => `\\${m}`)}"` : `${k}=${v}`));
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}
