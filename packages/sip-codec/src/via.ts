/**
 * Via values (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5118 §4.5 received with or without
 * IPv6 delimiters). LWS is allowed around the slashes of sent-protocol and before parameters.
 */
import { SipErrorCode } from './errors.js';
import { fail, isTokenChar, parseParams, skipWsp, splitCommas } from './scan.js';
import type { Via, ViaInit } from './types.js';
import { parseHostPort } from './uri.js';

function token(s: string, i: number, n: number, what: string): [string, number] {
  const start = i;
  while (i < n && isTokenChar(s.charCodeAt(i))) i++;
  if (i === start) fail(SipErrorCode.VIA, `Via: expected ${what}`);
  return [s.slice(start, i), i];
}

function slash(s: string, i: number, n: number): number {
  i = skipWsp(s, i, n);
  if (i >= n || s.charCodeAt(i) !== 0x2f) fail(SipErrorCode.VIA, "Via: expected '/' in sent-protocol");
  return skipWsp(s, i + 1, n);
}

/** Parses one Via value (already split at commas). */
export function parseVia(raw: string): Via {
  const s = raw;
  const n = s.length;
  const [name, i1] = token(s, skipWsp(s, 0, n), n, 'protocol name');
  const [version, i2] = token(s, slash(s, i1, n), n, 'protocol version');
  const [transport, afterTransport] = token(s, slash(s, i2, n), n, 'transport');
  let i = skipWsp(s, afterTransport, n);
  if (i === afterTransport) fail(SipErrorCode.VIA, 'Via: expected LWS before sent-by');
  const hs = i;
  if (i < n && s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0) fail(SipErrorCode.VIA, 'Via: unterminated IPv6 reference');
    i = close + 1;
  }
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x3b || c === 0x20 || c === 0x09) break;
    i++;
  }
  if (i === hs) fail(SipErrorCode.VIA, 'Via: missing sent-by');
  const { host, hostKind, port } = parseHostPort(s.slice(hs, i), SipErrorCode.VIA);
  const params = parseParams(s, i, n, SipErrorCode.VIA);
  const rp = params.get('rport');
  let rport: number | true | undefined;
  if (rp === null) rport = true;
  else if (rp !== undefined) {
    const v = Number(rp);
    if (!/^[0-9]{1,5}$/.test(rp) || v > 65535) fail(SipErrorCode.VIA, `Via: bad rport "${rp.slice(0, 16)}"`);
    rport = v;
  }
  const branch = params.get('branch');
  if (branch === null) fail(SipErrorCode.VIA, 'Via: branch without a value');
  const received = params.get('received');
  if (received === null) fail(SipErrorCode.VIA, 'Via: received without a value');
  return {
    raw,
    protocol: `${name.toUpperCase()}/${version}`,
    transport: transport.toUpperCase(),
    host,
    hostKind,
    port,
    branch,
    received,
    rport,
    params,
  };
}

/** Splits Via header values at commas and parses each. */
export function parseViaList(values: readonly string[]): Via[] {
  const out: Via[] = [];
  for (const v of values) {
    for (const part of splitCommas(v)) {
      if (part.length === 0) fail(SipErrorCode.VIA, 'Via: empty value in list');
      out.push(parseVia(part));
    }
  }
  return out;
}

function formatParam(k: string, v: string | number | null): string {
  return v === null ? `;${k}` : `;${k}=${v}`;
}

/** Formats a Via value from fields. */
export function formatVia(init: ViaInit): string {
  const host = init.host.includes(':') && !init.host.startsWith('[') ? `[${init.host}]` : init.host;
  let s = `SIP/2.0/${init.transport.toUpperCase()} ${host}`;
  if (init.port !== undefined) s += `:${init.port}`;
  s += `;branch=${init.branch}`;
  if (init.params) for (const [k, v] of Object.entries(init.params)) s += formatParam(k, v);
  return s;
}

/** Re-emits a parsed Via in canonical form with parameters set (null = flag), order kept. */
export function formatViaWithParams(via: Via, set: Readonly<Record<string, string | number | null>>): string {
  let s = `${via.protocol}/${via.transport} ${via.host}`;
  if (via.port !== undefined) s += `:${via.port}`;
  const pending = new Map<string, string | number | null>();
  for (const [k, v] of Object.entries(set)) pending.set(k.toLowerCase(), v);
  for (const [k, v] of via.params) {
    if (pending.has(k)) {
      s += formatParam(k, pending.get(k) ?? null);
      pending.delete(k);
    } else s += formatParam(k, v);
  }
  for (const [k, v] of pending) s += formatParam(k, v);
  return s;
}
