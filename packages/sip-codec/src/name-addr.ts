/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20, §25.1): From, To,
 * Contact, Route, Record-Route, Path, Refer-To.
 */
import { SipErrorCode, SipParseError } from './errors.js';
import { endOfQuoted, fail, isTokenChar, isWsp, parseDigits, parseParams, skipWsp, splitCommas, trimEndWsp, unquote } from './scan.js';
import type { Contact, NameAddr } from './types.js';
import { parseUri } from './uri.js';

const EMPTY_PARAMS: ReadonlyMap<string, string | null> = new Map();

/** Parses one name-addr or addr-spec followed by header parameters. */
export function parseNameAddr(raw: string): NameAddr {
  const s = raw;
  const n = s.length;
  let i = skipWsp(s, 0, n);
  if (i >= n) fail(SipErrorCode.NAME_ADDR, 'empty address');
  let displayName: string | undefined;
  let uriText: string;
  let after: number;
  const c0 = s.charCodeAt(i);
  if (c0 === 0x22) {
    const q = endOfQuoted(s, i, n);
    if (q < 0) fail(SipErrorCode.NAME_ADDR, 'unterminated quoted display name');
    displayName = unquote(s, i, q);
    i = skipWsp(s, q, n);
    if (i >= n || s.charCodeAt(i) !== 0x3c) fail(SipErrorCode.NAME_ADDR, "expected '<' after the display name");
    [uriText, after] = angle(s, i);
  } else if (c0 === 0x3c) {
    [uriText, after] = angle(s, i);
  } else {
    // Either `token *(LWS token) <uri>` or an addr-spec. Scan tokens and LWS up to '<'.
    let j = i;
    while (j < n && (isTokenChar(s.charCodeAt(j)) || isWsp(s.charCodeAt(j)))) j++;
    if (j < n && s.charCodeAt(j) === 0x3c) {
      const dn = s.slice(i, trimEndWsp(s, i, j));
      displayName = dn.length > 0 ? dn : undefined;
      [uriText, after] = angle(s, j);
    } else {
      // addr-spec: the URI ends at the first ';' (header parameters follow) or at LWS.
      let e = i;
      while (e < n) {
        const c = s.charCodeAt(e);
        if (c === 0x3b || c === 0x20 || c === 0x09) break;
        if (c === 0x2c || c === 0x3f || c === 0x3c || c === 0x3e || c === 0x22) {
          fail(SipErrorCode.NAME_ADDR, "an addr-spec with ',', '?' or '<' must be enclosed in <>");
        }
        e++;
      }
      uriText = s.slice(i, e);
      after = e;
    }
  }
  let uri;
  try {
    uri = parseUri(uriText);
  } catch (err) {
    throw new SipParseError(SipErrorCode.NAME_ADDR, `bad URI in address: ${(err as Error).message}`, { cause: err });
  }
  const params = after >= n ? EMPTY_PARAMS : parseParams(s, after, n, SipErrorCode.NAME_ADDR);
  const tag = params.get('tag');
  return { raw, displayName, uri, params, tag: tag ?? undefined };
}

function angle(s: string, lt: number): [string, number] {
  const gt = s.indexOf('>', lt + 1);
  if (gt < 0) fail(SipErrorCode.NAME_ADDR, "missing '>'");
  return [s.slice(lt + 1, gt), gt + 1];
}

/** Parses a comma-separated list of name-addrs (Route, Record-Route, Path). */
export function parseNameAddrList(values: readonly string[]): NameAddr[] {
  const out: NameAddr[] = [];
  for (const v of values) {
    for (const part of splitCommas(v)) {
      if (part.length === 0) fail(SipErrorCode.NAME_ADDR, 'empty element in address list');
      out.push(parseNameAddr(part));
    }
  }
  return out;
}

/** Parses one Contact value (not '*'). */
export function parseContact(raw: string): Contact {
  const na = parseNameAddr(raw);
  const e = na.params.get('expires');
  const q = na.params.get('q');
  let expires: number | undefined;
  let qv: number | undefined;
  if (e !== undefined) {
    if (e === null) fail(SipErrorCode.HEADER_VALUE, 'Contact expires without a value');
    const v = parseDigits(e);
    if (v === undefined) fail(SipErrorCode.HEADER_VALUE, `Contact expires is not a number: "${e.slice(0, 32)}"`);
    expires = Math.min(v, 4294967295);
  }
  if (q !== undefined) {
    if (q === null) fail(SipErrorCode.HEADER_VALUE, 'Contact q without a value');
    qv = parseQ(q);
  }
  return { ...na, expires, q: qv };
}

function parseQ(s: string): number {
  // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  const c0 = s.charCodeAt(0);
  if (s.length === 0 || s.length > 5 || (c0 !== 0x30 && c0 !== 0x31)) fail(SipErrorCode.HEADER_VALUE, `bad q value "${s}"`);
  if (s.length > 1) {
    if (s.charCodeAt(1) !== 0x2e) fail(SipErrorCode.HEADER_VALUE, `bad q value "${s}"`);
    for (let i = 2; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39 || (c0 === 0x31 && c !== 0x30)) fail(SipErrorCode.HEADER_VALUE, `bad q value "${s}"`);
    }
  }
  return Number(s);
}

/** Parses Contact header values: '*' alone, or a list of contacts. */
export function parseContacts(values: readonly string[]): { wildcard: boolean; contacts: Contact[] } {
  const contacts: Contact[] = [];
  let wildcard = false;
  for (const v of values) {
    for (const part of splitCommas(v)) {
      if (part === '*') {
        wildcard = true;
        continue;
      }
      if (part.length === 0) fail(SipErrorCode.NAME_ADDR, 'empty Contact element');
      contacts.push(parseContact(part));
    }
  }
  if (wildcard && contacts.length > 0) fail(SipErrorCode.HEADER_VALUE, "Contact '*' mixed with addresses");
  return { wildcard, contacts };
}

/** Formats a name-addr from parts. */
export function formatNameAddr(uri: string, displayName?: string, params?: Readonly<Record<string, string | null>>): string {
  let s = '';
  if (displayName !== undefined && displayName.length > 0) s += `"${displayName.replace(/[\\"]/g, (m) => `\\${m}`)}" `;
  s += `<${uri}>`;
  if (params) for (const [k, v] of Object.entries(params)) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}
