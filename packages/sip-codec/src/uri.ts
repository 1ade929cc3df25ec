/**
 * URI parsing (RFC 3261 §19.1, RFC 3966 tel, RFC 5118 IPv6 references) and formatting.
 * sip/sips are split into parts; tel keeps its number as `user`; other schemes stay opaque.
 */
import { SipErrorCode } from './errors.js';
import { hostKindCode } from './host.js';
import { fail, parseParams } from './scan.js';
import type { HostKind, SipUri } from './types.js';

const EMPTY_PARAMS: ReadonlyMap<string, string | null> = new Map();
const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Checks URI text: no LWS, controls, quotes or angle brackets. */
function checkUriChars(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x5c) {
      fail(SipErrorCode.URI, `character 0x${c.toString(16)} not allowed in a URI`);
    }
  }
}

const HOST_KINDS: readonly HostKind[] = ['ipv4', 'ipv6', 'domain'];

/** Classifies and validates a host (domain, IPv4, or bracketed IPv6 reference). */
export function hostKindOf(host: string): HostKind | undefined {
  for (let i = 0; i < host.length; i++) if (host.charCodeAt(i) > 0x7e) return undefined;
  return HOST_KINDS[hostKindCode(Buffer.from(host, 'latin1'), 0, host.length)];
}

/** Splits `host[:port]` (host may be an IPv6 reference). */
export function parseHostPort(s: string, code: SipErrorCode): { host: string; hostKind: HostKind; port: number | undefined } {
  let host: string;
  let rest: string;
  if (s.charCodeAt(0) === 0x5b) {
    const close = s.indexOf(']');
    if (close < 0) fail(code, `unterminated IPv6 reference "${s.slice(0, 48)}"`);
    host = s.slice(0, close + 1);
    rest = s.slice(close + 1);
  } else {
    const colon = s.indexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    rest = colon < 0 ? '' : s.slice(colon);
  }
  const hostKind = hostKindOf(host);
  if (hostKind === undefined) fail(code, `bad host "${host.slice(0, 64)}"`);
  let port: number | undefined;
  if (rest.length > 0) {
    if (rest.charCodeAt(0) !== 0x3a || rest.length < 2 || rest.length > 6) fail(code, `bad port in "${s.slice(0, 64)}"`);
    let v = 0;
    for (let i = 1; i < rest.length; i++) {
      const c = rest.charCodeAt(i);
      if (!isDigit(c)) fail(code, `bad port in "${s.slice(0, 64)}"`);
      v = v * 10 + (c - 0x30);
    }
    if (v > 65535) fail(code, `port ${v} out of range`);
    port = v;
  }
  return { host, hostKind, port };
}

/** Parses a URI; throws SipParseError(SIP_ERR_URI) when malformed. */
export function parseUri(raw: string): SipUri {
  checkUriChars(raw);
  let i = 0;
  const n = raw.length;
  if (n === 0 || !isAlpha(raw.charCodeAt(0))) fail(SipErrorCode.URI, 'URI has no scheme');
  while (i < n) {
    const c = raw.charCodeAt(i);
    if (isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e) i++;
    else break;
  }
  if (i >= n || raw.charCodeAt(i) !== 0x3a) fail(SipErrorCode.URI, 'URI has no scheme');
  const scheme = raw.slice(0, i).toLowerCase();
  const rest = raw.slice(i + 1);
  if (rest.length === 0) fail(SipErrorCode.URI, 'URI is empty after the scheme');
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(raw, scheme, rest);
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (number.length === 0) fail(SipErrorCode.URI, 'tel URI without a number');
    const params = semi < 0 ? EMPTY_PARAMS : parseParams(rest, semi, rest.length, SipErrorCode.URI);
    return { scheme, raw, user: number, password: undefined, host: '', hostKind: undefined, port: undefined, params, headers: NO_HEADERS, opaque: rest };
  }
  return { scheme, raw, user: undefined, password: undefined, host: '', hostKind: undefined, port: undefined, params: EMPTY_PARAMS, headers: NO_HEADERS, opaque: rest };
}

function parseSipUri(raw: string, scheme: string, rest: string): SipUri {
  // '@' cannot appear in uri-parameters or headers, so the last one ends the userinfo (whose
  // user part may itself hold '?', ';' or '/': RFC 4475 §3.1.1.2).
  const at = rest.lastIndexOf('@');
  const q = rest.indexOf('?', at + 1);
  const main = q < 0 ? rest : rest.slice(0, q);
  let user: string | undefined;
  let password: string | undefined;
  let hostPart = main;
  if (at >= 0) {
    const userinfo = main.slice(0, at);
    hostPart = main.slice(at + 1);
    const colon = userinfo.indexOf(':');
    user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    password = colon < 0 ? undefined : userinfo.slice(colon + 1);
    if (user.length === 0) fail(SipErrorCode.URI, 'empty user part before @');
  }
  const semi = hostPart.indexOf(';');
  const hostport = semi < 0 ? hostPart : hostPart.slice(0, semi);
  const { host, hostKind, port } = parseHostPort(hostport, SipErrorCode.URI);
  const params = semi < 0 ? EMPTY_PARAMS : parseParams(hostPart, semi, hostPart.length, SipErrorCode.URI);
  let headers: ReadonlyArray<readonly [string, string]> = NO_HEADERS;
  if (q >= 0) {
    const list: Array<readonly [string, string]> = [];
    for (const part of rest.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      if (eq <= 0) fail(SipErrorCode.URI, `bad URI header "${part.slice(0, 32)}"`);
      list.push([part.slice(0, eq), part.slice(eq + 1)]);
    }
    headers = list;
  }
  return { scheme, raw, user, password, host, hostKind, port, params, headers, opaque: undefined };
}

export interface SipUriInit {
  readonly scheme?: 'sip' | 'sips';
  readonly user?: string;
  readonly password?: string;
  readonly host: string;
  readonly port?: number;
  readonly params?: Readonly<Record<string, string | number | null>>;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/** Formats a URI. A parsed SipUri is returned as its raw text. */
export function formatUri(uri: SipUri | SipUriInit): string {
  if ('raw' in uri) return uri.raw;
  let s = `${uri.scheme ?? 'sip'}:`;
  if (uri.user !== undefined) s += uri.password === undefined ? `${uri.user}@` : `${uri.user}:${uri.password}@`;
  const host = uri.host.includes(':') && !uri.host.startsWith('[') ? `[${uri.host}]` : uri.host;
  s += host;
  if (uri.port !== undefined) s += `:${uri.port}`;
  if (uri.params) {
    for (const [k, v] of Object.entries(uri.params)) s += v === null ? `;${k}` : `;${k}=${v}`;
  }
  if (uri.headers && uri.headers.length > 0) s += `?${uri.headers.map(([k, v]) => `${k}=${v}`).join('&')}`;
  return s;
}
