/**
 * Character classes and small linear scanners over header value strings (no regular
 * expressions, so no backtracking). Values reach these after unfolding: LWS is SP or HTAB.
 */
import { TOKEN } from './chars.js';
import { SipParseError, type SipErrorCode } from './errors.js';


/** RFC 3261 token character. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

export function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export function skipWsp(s: string, i: number, end: number = s.length): number {
  while (i < end && isWsp(s.charCodeAt(i))) i++;
  return i;
}

export function trimEndWsp(s: string, start: number, end: number): number {
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return end;
}

export function fail(code: SipErrorCode, message: string, cause?: unknown): never {
  throw new SipParseError(code, message, cause === undefined ? {} : { cause });
}

/**
 * Index just after the quoted string that opens at `i` (s[i] === '"'), or -1 when unterminated.
 */
export function endOfQuoted(s: string, i: number, end: number = s.length): number {
  for (let j = i + 1; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/** The content of a quoted string (without the quotes) with quoted-pairs unescaped. */
export function unquote(s: string, start: number, end: number): string {
  let out = '';
  let from = start + 1;
  const last = end - 1;
  for (let j = from; j < last; j++) {
    if (s.charCodeAt(j) === 0x5c) {
      out += s.slice(from, j);
      from = j + 1;
      j++;
    }
  }
  return out + s.slice(from, last);
}

/**
 * Splits a header value at commas that are not inside a quoted string or <...>; returns trimmed
 * pieces. Empty pieces are kept (as '') so that callers can reject them.
 */
export function splitCommas(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let angle = false;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      const e = endOfQuoted(s, i, n);
      if (e < 0) break;
      i = e - 1;
    } else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === 0x2c && !angle) {
      out.push(s.slice(skipWsp(s, start, i), trimEndWsp(s, start, i)));
      start = i + 1;
    }
  }
  out.push(s.slice(skipWsp(s, start, n), trimEndWsp(s, start, n)));
  return out;
}

/**
 * Parses `*( SEMI name [ EQUAL value ] )` starting at `i` until `end`. Values are token, host
 * (IPv6 references included) or quoted-string (kept with quotes when `unquoteValues` is false).
 */
export function parseParams(
  s: string,
  i: number,
  end: number,
  code: SipErrorCode,
  unquoteValues = false,
): Map<string, string | null> {
  const params = new Map<string, string | null>();
  i = skipWsp(s, i, end);
  while (i < end) {
    if (s.charCodeAt(i) !== 0x3b) fail(code, `expected ';' at "${s.slice(i, i + 16)}"`);
    i = skipWsp(s, i + 1, end);
    const nameStart = i;
    while (i < end && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) fail(code, 'empty parameter name');
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWsp(s, i, end);
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 0x3d) {
      i = skipWsp(s, i + 1, end);
      if (i < end && s.charCodeAt(i) === 0x22) {
        const q = endOfQuoted(s, i, end);
        if (q < 0) fail(code, `unterminated quoted string in parameter ${name}`);
        value = unquoteValues ? unquote(s, i, q) : s.slice(i, q);
        i = q;
      } else {
        const vs = i;
        while (i < end) {
          const c = s.charCodeAt(i);
          if (c === 0x3b || c === 0x20 || c === 0x09 || c === 0x2c) break;
          if (c < 0x21 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x7f) fail(code, `bad character in parameter ${name}`);
          i++;
        }
        if (i === vs) fail(code, `empty value of parameter ${name}`);
        value = s.slice(vs, i);
      }
      i = skipWsp(s, i, end);
    }
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

/** Parses a non-negative decimal made of digits only; undefined when not digits. */
export function parseDigits(s: string, start = 0, end = s.length): number | undefined {
  if (start >= end || end - start > 15) {
    if (start >= end) return undefined;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return undefined;
    }
    return Number.MAX_SAFE_INTEGER;
  }
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

export const MAX_UINT32 = 4294967295;

/** delta-seconds: digits; values above 2^32-1 are clamped to 2^32-1. */
export function parseDeltaSeconds(s: string, code: SipErrorCode, what: string): number {
  const t = s.trim();
  const v = parseDigits(t);
  if (v === undefined) fail(code, `${what} is not a number: "${t.slice(0, 32)}"`);
  return v > MAX_UINT32 ? MAX_UINT32 : v;
}

/** Decodes %HH escapes; malformed escapes are kept as they are. Bytes are read as UTF-8. */
export function decodePercent(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const cp = s.codePointAt(i) ?? 0xfffd;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Rejects values that would break the framing of a header line. */
export function assertLineSafe(value: string, what: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0x00) {
      throw new SipParseError('SIP_ERR_INVALID_VALUE', `${what} contains CR, LF or NUL`);
    }
  }
}
