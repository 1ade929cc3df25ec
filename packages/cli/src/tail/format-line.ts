/**
 * The one-line form of a raw message (`sipnats tail` default output):
 *
 *   HH:MM:SS.mmm  instance  → udp  remote-address  INVITE | 180 Ringing  Call-ID  CSeq
 *
 * `→` is a message the transport received (in), `←` one it sent (out). Text taken from the wire is
 * made terminal-safe (control characters shown as `\xNN`), so a hostile peer cannot move the cursor.
 */
import { formatSocketAddress } from './address.js';
import type { Direction, RawRecord } from './raw-record.js';

export interface LineOptions {
  /** ANSI colors by direction (and red for malformed messages). */
  readonly color: boolean;
  /** Times in UTC instead of local time. */
  readonly utc: boolean;
}

export const ARROWS: Readonly<Record<Direction, string>> = { in: '→', out: '←' };

const ANSI = { reset: '\x1b[0m', in: '\x1b[36m', out: '\x1b[33m', bad: '\x1b[31m', dim: '\x1b[2m' } as const;

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `HH:MM:SS.mmm` of a time in ms since the epoch. */
export function formatClock(ms: number, utc: boolean): string {
  const d = new Date(ms);
  const [h, m, s, milli] = utc
    ? [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : [d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}.${String(milli).padStart(3, '0')}`;
}

/** Replaces C0/C1 control characters (and DEL) by `\xNN`; keeps `keep` characters (e.g. CR LF TAB). */
export function terminalSafe(text: string, keep = ''): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c < 0x20 || (c >= 0x7f && c < 0xa0)) && !keep.includes(ch)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** `INVITE`, or `180 Ringing`, or `MALFORMED` for a message that did not parse. */
export function messageLabel(r: RawRecord): string {
  if (!r.outcome.ok) return 'MALFORMED';
  const sip = r.outcome.sip;
  return terminalSafe(sip.kind === 'request' ? (sip.method ?? '?') : `${sip.status ?? '?'} ${sip.reason ?? ''}`.trimEnd());
}

export function remoteText(r: RawRecord): string {
  return r.remote === undefined ? '?' : formatSocketAddress(r.remote);
}

/** One line (without the newline). */
export function formatLine(r: RawRecord, o: LineOptions): string {
  const head = `${formatClock(r.time, o.utc)}  ${terminalSafe(r.instance).padEnd(8)}  ${ARROWS[r.direction]} ${(r.transport ?? '?').padEnd(3)}  ${remoteText(r).padEnd(21)}`;
  let tail: string;
  if (r.outcome.ok) {
    const sip = r.outcome.sip;
    tail = `${messageLabel(r).padEnd(18)}  ${terminalSafe(sip.callId)}  ${sip.cseq.seq} ${terminalSafe(sip.cseq.method)}`;
  } else {
    tail = `MALFORMED (${r.outcome.code}: ${terminalSafe(r.outcome.error)}) ${r.bytes.length} bytes`;
  }
  const line = `${head}  ${tail}`;
  if (!o.color) return line;
  const color = r.outcome.ok ? ANSI[r.direction] : ANSI.bad;
  return `${color}${line}${ANSI.reset}`;
}

/** The whole message as text for `--full` (terminal-safe, CRLF shown as line breaks), indented. */
export function formatFull(r: RawRecord, indent = '    '): string {
  const text = terminalSafe(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength).toString('utf8'), '\r\n\t').replace(/\r\n/g, '\n');
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return lines.map((l) => `${indent}${l.replace(/\r/g, '\\x0d')}`).join('\n');
}
