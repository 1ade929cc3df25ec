/**
 * Interned method names: the start line's method and CSeq's method of the common requests come
 * from this table instead of a new string per message. Exact (case-sensitive) matches only, as
 * methods are case-sensitive (RFC 3261 §7.1).
 */
import { latin1 } from './raw-headers.js';

const KNOWN = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'INFO', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH'];

/** Candidates by (length, first byte): at most a few names share one slot. */
const BY_SHAPE = new Map<number, Array<readonly [string, Uint8Array]>>();
for (const name of KNOWN) {
  const key = name.length * 256 + name.charCodeAt(0);
  const list = BY_SHAPE.get(key) ?? [];
  list.push([name, Uint8Array.from(Buffer.from(name, 'latin1'))]);
  BY_SHAPE.set(key, list);
}

/** The method token in buf[s, e) as a string (callers checked it is a token: ASCII). */
export function methodName(buf: Buffer, s: number, e: number): string {
  const list = BY_SHAPE.get((e - s) * 256 + (buf[s] as number));
  if (list !== undefined) {
    outer: for (const [name, bytes] of list) {
      for (let i = 1; i < bytes.length; i++) if (buf[s + i] !== bytes[i]) continue outer;
      return name;
    }
  }
  return latin1(buf, s, e);
}
