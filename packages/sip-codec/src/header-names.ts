/**
 * Header name table: canonical spellings, compact forms (RFC 3261 §7.3.3 and later RFCs), and a
 * byte-level lookup that identifies a known header name without creating a string.
 */

/** Ids of headers the codec knows by name; every other header has id OTHER. */
export const H = {
  OTHER: 0,
  VIA: 1,
  FROM: 2,
  TO: 3,
  CALL_ID: 4,
  CSEQ: 5,
  MAX_FORWARDS: 6,
  CONTENT_LENGTH: 7,
  CONTENT_TYPE: 8,
  CONTACT: 9,
  ROUTE: 10,
  RECORD_ROUTE: 11,
  PATH: 12,
  REQUIRE: 13,
  PROXY_REQUIRE: 14,
  SUPPORTED: 15,
  UNSUPPORTED: 16,
  ALLOW: 17,
  EXPIRES: 18,
  MIN_EXPIRES: 19,
  RSEQ: 20,
  RACK: 21,
  SESSION_EXPIRES: 22,
  MIN_SE: 23,
  WWW_AUTHENTICATE: 24,
  PROXY_AUTHENTICATE: 25,
  AUTHORIZATION: 26,
  PROXY_AUTHORIZATION: 27,
  CONTENT_ENCODING: 28,
  SUBJECT: 29,
  EVENT: 30,
  REFER_TO: 31,
  REFERRED_BY: 32,
  ALLOW_EVENTS: 33,
  ACCEPT_CONTACT: 34,
  REJECT_CONTACT: 35,
  REQUEST_DISPOSITION: 36,
  IDENTITY: 37,
  IDENTITY_INFO: 38,
} as const;

/** Canonical spelling by id (index = id). */
const CANONICAL: readonly string[] = [
  '',
  'Via',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Max-Forwards',
  'Content-Length',
  'Content-Type',
  'Contact',
  'Route',
  'Record-Route',
  'Path',
  'Require',
  'Proxy-Require',
  'Supported',
  'Unsupported',
  'Allow',
  'Expires',
  'Min-Expires',
  'RSeq',
  'RAck',
  'Session-Expires',
  'Min-SE',
  'WWW-Authenticate',
  'Proxy-Authenticate',
  'Authorization',
  'Proxy-Authorization',
  'Content-Encoding',
  'Subject',
  'Event',
  'Refer-To',
  'Referred-By',
  'Allow-Events',
  'Accept-Contact',
  'Reject-Contact',
  'Request-Disposition',
  'Identity',
  'Identity-Info',
];

/** Compact forms: letter → canonical full name. */
export const COMPACT_FORMS: Readonly<Record<string, string>> = Object.freeze({
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
});

const ID_BY_LOWER = new Map<string, number>();
CANONICAL.forEach((name, id) => {
  if (id !== 0) ID_BY_LOWER.set(name.toLowerCase(), id);
});
const COMPACT_ID = new Int8Array(128);
for (const [letter, full] of Object.entries(COMPACT_FORMS)) {
  const id = ID_BY_LOWER.get(full.toLowerCase()) ?? 0;
  COMPACT_ID[letter.charCodeAt(0)] = id;
  COMPACT_ID[letter.toUpperCase().charCodeAt(0)] = id;
}

const LOWER_BYTES: Uint8Array[] = CANONICAL.map((n) => Uint8Array.from(Buffer.from(n.toLowerCase(), 'latin1')));

/**
 * Candidate id by (length, first letter, last letter) of a lower-cased name: one table read,
 * then one byte comparison. Built at load; a collision would fail loudly here.
 */
const MAX_NAME = 24;
const BY_SHAPE = new Int8Array(MAX_NAME * 32 * 32);
function shapeKey(len: number, first: number, last: number): number {
  return (len * 32 + (first & 31)) * 32 + (last & 31);
}
CANONICAL.forEach((_n, id) => {
  if (id === 0) return;
  const b = LOWER_BYTES[id] as Uint8Array;
  const k = shapeKey(b.length, b[0] as number, b[b.length - 1] as number);
  if (BY_SHAPE[k] !== 0) throw new Error(`header name table collision for ${CANONICAL[id]}`);
  BY_SHAPE[k] = id;
});

/** Identifies the header name in bytes[start, end) without allocating; OTHER when unknown. */
export function headerIdFromBytes(bytes: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len === 1) {
    const c = bytes[start] as number;
    return c < 128 ? (COMPACT_ID[c] as number) : 0;
  }
  if (len >= MAX_NAME || len === 0) return 0;
  const id = BY_SHAPE[shapeKey(len, bytes[start] as number, bytes[end - 1] as number)] as number;
  if (id === 0) return 0;
  const want = LOWER_BYTES[id] as Uint8Array;
  for (let i = 0; i < len; i++) {
    const c = bytes[start + i] as number;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== want[i]) return 0;
  }
  return id;
}

/** Id of a header name given as a string (any case, compact forms included). */
export function headerIdFromName(name: string): number {
  if (name.length === 1) {
    const c = name.charCodeAt(0);
    return c < 128 ? (COMPACT_ID[c] as number) : 0;
  }
  return ID_BY_LOWER.get(name.toLowerCase()) ?? 0;
}

/** Canonical spelling of a known header id. */
export function canonicalNameOf(id: number): string {
  return CANONICAL[id] ?? '';
}

/**
 * The canonical spelling of a header name: compact forms expanded, known names in their RFC
 * spelling, unknown names unchanged.
 */
export function canonicalHeaderName(name: string): string {
  const id = headerIdFromName(name);
  return id === 0 ? name : (CANONICAL[id] as string);
}

/** Lower-case comparison key: the canonical name for known headers, lower-case otherwise. */
export function headerKey(name: string): string {
  const id = headerIdFromName(name);
  return id === 0 ? name.toLowerCase() : (CANONICAL[id] as string).toLowerCase();
}
