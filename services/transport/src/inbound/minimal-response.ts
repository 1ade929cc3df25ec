/**
 * Responses the transport writes for a request it could not parse (400, 505): RFC 3261 §8.2
 * requires Via, From, To, Call-ID and CSeq copied from the request. The codec refused the
 * message, so those lines are picked out of the raw header section with a lenient, bounded scan;
 * when any of them is missing or holds a control character no response is possible and the
 * caller drops the message.
 */
const NEEDED: Readonly<Record<string, string>> = {
  via: 'Via',
  v: 'Via',
  from: 'From',
  f: 'From',
  to: 'To',
  t: 'To',
  'call-id': 'Call-ID',
  i: 'Call-ID',
  cseq: 'CSeq',
};

const MAX_SCAN = 16_384;
const MAX_LINES = 128;

/** Header lines (canonical name, value) needed for a response, or undefined. */
export function pickResponseHeaders(data: Uint8Array): Array<[string, string]> | undefined {
  const text = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, MAX_SCAN)).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const lines = head.split(/\r?\n/).slice(1, MAX_LINES);
  const out: Array<[string, string]> = [];
  const found = new Set<string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = NEEDED[line.slice(0, colon).trim().toLowerCase()];
    if (name === undefined) continue;
    const value = line.slice(colon + 1).trim();
    // eslint-disable-next-line no-control-regex
    if (value === '' || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return undefined;
    if (name !== 'Via' && found.has(name)) continue;
    found.add(name);
    out.push([name, value]);
  }
  for (const n of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) if (!found.has(n)) return undefined;
  return out;
}

/** Serialises a response with the given header lines (plus extra ones), no body. */
export function buildResponse(status: number, reason: string, headers: ReadonlyArray<readonly [string, string]>, toTag?: string): Buffer {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const [name, value] of headers) {
    if (name === 'To' && toTag !== undefined && !/;\s*tag=/i.test(value)) lines.push(`To: ${value};tag=${toTag}`);
    else lines.push(`${name}: ${value}`);
  }
  lines.push('Content-Length: 0', '', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
