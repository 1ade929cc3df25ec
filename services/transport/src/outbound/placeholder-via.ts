/**
 * ua may hand over a request without any Via: the transport's own Via is the first one it gets
 * (RFC 3261 §8.1.1.7 — the UA core leaves the Via to its transport layer). The codec parses only
 * requests with a Via, so such a request is parsed with a placeholder Via that is removed before
 * the transport puts its own on top.
 */
const PLACEHOLDER = Buffer.from('Via: SIP/2.0/UDP sipnats.invalid;branch=z9hG4bK-sipnats-placeholder\r\n', 'latin1');
const MAX_SCAN = 65_536;

/** True when the header section holds a `Via` or `v` header line. */
export function hasViaLine(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, MAX_SCAN)).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'via' || name === 'v') return true;
  }
  return false;
}

/** The request with the placeholder Via inserted right after the request line. */
export function withPlaceholderVia(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return buf;
  return Buffer.concat([buf.subarray(0, eol + 2), PLACEHOLDER, buf.subarray(eol + 2)]);
}
