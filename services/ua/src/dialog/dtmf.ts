/**
 * DTMF carried in INFO bodies: `application/dtmf-relay` (`Signal=5\r\nDuration=160`) and
 * `application/dtmf` (the digit alone). Anything else is a plain INFO (RFC 6086).
 */

export interface Dtmf {
  readonly digit: string;
  readonly duration?: number;
}

const DIGIT = /^[0-9A-D*#]$/;

/** The DTMF of an INFO body, or undefined when the type is not DTMF or the body is malformed. */
export function parseDtmf(contentType: string | undefined, body: string): Dtmf | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/dtmf') {
    const digit = normaliseDigit(body.trim());
    return digit === undefined ? undefined : { digit };
  }
  if (type !== 'application/dtmf-relay') return undefined;
  let digit: string | undefined;
  let duration: number | undefined;
  for (const line of body.split(/\r?\n/).slice(0, 16)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const name = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (name === 'signal') digit = normaliseDigit(value);
    else if (name === 'duration' && /^\d{1,5}$/.test(value)) duration = Math.min(Number(value), 60_000);
  }
  if (digit === undefined) return undefined;
  return duration === undefined ? { digit } : { digit, duration };
}

/** Accepts the digit itself or the RFC 4733 event numbers 10 (*) and 11 (#). */
function normaliseDigit(value: string): string | undefined {
  if (value === '10') return '*';
  if (value === '11') return '#';
  const upper = value.toUpperCase();
  return DIGIT.test(upper) ? upper : undefined;
}
