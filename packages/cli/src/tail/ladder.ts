/**
 * `sipnats tail --ladder CALL-ID`: a text sequence diagram of one call, like sngrep's call flow.
 * One column per endpoint: each remote address (a peer) and each transport instance. A message the
 * transport received (in) is an arrow from the peer to the instance; one it sent (out), from the
 * instance to the peer. Each message takes two lines: its label (method, or status and reason)
 * above the arrow, and the arrow with the time at the left.
 *
 * Bounded: at most `maxRows` messages are kept (the oldest go, and a line says how many) and at
 * most `maxColumns` columns (further endpoints share an "(others)" column).
 */
import { formatSocketAddress } from './address.js';
import { formatClock, formatFull, messageLabel, terminalSafe } from './format-line.js';
import type { RawRecord } from './raw-record.js';

export interface LadderOptions {
  readonly maxRows?: number;
  readonly maxColumns?: number;
}

export interface LadderRenderOptions {
  readonly utc: boolean;
  /** Print each whole message under its arrow. */
  readonly full: boolean;
}

interface Column {
  readonly key: string;
  readonly label: string;
}

interface Row {
  readonly from: number;
  readonly to: number;
  readonly record: RawRecord;
}

export const DEFAULT_LADDER_ROWS = 500;
export const DEFAULT_LADDER_COLUMNS = 12;
const TIME_WIDTH = 14;
const MIN_COLUMN_WIDTH = 20;
const MAX_COLUMN_WIDTH = 40;
const OTHERS = 'others';

/** `INVITE (udp)`, `180 Ringing (tcp)`: what an arrow says. */
function arrowLabel(r: RawRecord): string {
  const label = messageLabel(r);
  return r.transport === undefined ? label : `${label} (${r.transport})`;
}

export class Ladder {
  readonly callId: string;
  readonly #maxRows: number;
  readonly #maxColumns: number;
  readonly #columns: Column[] = [];
  readonly #index = new Map<string, number>();
  readonly #rows: Row[] = [];
  #omitted = 0;
  #established = false;
  #ended = false;

  constructor(callId: string, o: LadderOptions = {}) {
    this.callId = callId;
    this.#maxRows = Math.max(1, o.maxRows ?? DEFAULT_LADDER_ROWS);
    this.#maxColumns = Math.max(3, o.maxColumns ?? DEFAULT_LADDER_COLUMNS);
  }

  /** True once the call ended: a 2xx to BYE, or a final non-2xx to the initial INVITE (not 401/407). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Messages shown (after the bound). */
  get size(): number {
    return this.#rows.length;
  }

  #column(key: string, label: string): number {
    const known = this.#index.get(key);
    if (known !== undefined) return known;
    if (this.#columns.length >= this.#maxColumns - 1) {
      const others = this.#index.get(OTHERS);
      if (others !== undefined) return others;
      this.#columns.push({ key: OTHERS, label: '(others)' });
      this.#index.set(OTHERS, this.#columns.length - 1);
      return this.#columns.length - 1;
    }
    this.#columns.push({ key, label });
    this.#index.set(key, this.#columns.length - 1);
    return this.#columns.length - 1;
  }

  /** Adds a message of this call; returns false (and ignores it) for any other message. */
  add(r: RawRecord): boolean {
    if (!r.outcome.ok || r.outcome.sip.callId !== this.callId) return false;
    const sip = r.outcome.sip;
    const peerText = r.remote === undefined ? '?' : formatSocketAddress(r.remote);
    const peerFirst = r.direction === 'in';
    const peer = (): number => this.#column(`peer:${peerText}`, peerText);
    const inst = (): number => this.#column(`instance:${r.instance}`, `[${terminalSafe(r.instance)}]`);
    // Columns appear in the order the endpoints are first seen, sender first.
    const a = peerFirst ? peer() : inst();
    const b = peerFirst ? inst() : peer();
    this.#rows.push({ from: a, to: b, record: r });
    if (this.#rows.length > this.#maxRows) {
      this.#rows.shift();
      this.#omitted++;
    }
    if (sip.kind === 'request' && sip.method === 'INVITE' && this.#ended && !this.#established) {
      this.#ended = false; // a new INVITE after a failure (e.g. a retry): the call goes on
    }
    if (sip.kind === 'response' && sip.status !== undefined) {
      const status = sip.status;
      if (sip.cseq.method === 'INVITE' && status >= 200 && status < 300) this.#established = true;
      if (sip.cseq.method === 'BYE' && status >= 200 && status < 300) this.#ended = true;
      if (sip.cseq.method === 'INVITE' && status >= 300 && status !== 401 && status !== 407 && !this.#established) this.#ended = true;
    }
    return true;
  }

  /** The diagram as text (lines joined by `\n`, ending with a newline). */
  render(o: LadderRenderOptions): string {
    const labels = this.#rows.map((row) => arrowLabel(row.record));
    const width = Math.min(
      MAX_COLUMN_WIDTH,
      Math.max(MIN_COLUMN_WIDTH, ...this.#columns.map((c) => c.label.length + 2), ...labels.map((l) => l.length + 3)),
    );
    const center = (i: number): number => TIME_WIDTH + i * width + Math.floor(width / 2);
    const total = TIME_WIDTH + this.#columns.length * width;
    const blank = (): string[] => {
      const line = Array.from({ length: total }, () => ' ');
      for (let i = 0; i < this.#columns.length; i++) line[center(i)] = '│';
      return line;
    };
    const put = (line: string[], at: number, text: string): void => {
      for (let k = 0; k < text.length && at + k < line.length; k++) line[at + k] = text[k] as string;
    };
    const out: string[] = [];
    const status = this.#ended ? 'ended' : 'in progress';
    out.push(`Call-ID: ${terminalSafe(this.callId)}  (${this.#rows.length + this.#omitted} messages, ${status})`);
    const header = Array.from({ length: total }, () => ' ');
    this.#columns.forEach((c, i) => {
      const text = c.label.length > width - 2 ? `${c.label.slice(0, width - 3)}…` : c.label;
      put(header, Math.max(0, center(i) - Math.floor(text.length / 2)), text);
    });
    out.push(header.join('').trimEnd());
    out.push(blank().join('').trimEnd());
    if (this.#omitted > 0) out.push(`… ${this.#omitted} earlier messages not shown`);
    this.#rows.forEach((row, n) => {
      const lo = Math.min(center(row.from), center(row.to));
      const hi = Math.max(center(row.from), center(row.to));
      const span = hi - lo - 1;
      let label = labels[n] ?? '';
      if (label.length > span - 2) label = `${label.slice(0, Math.max(1, span - 3))}…`;
      const labelLine = blank();
      put(labelLine, lo + 1 + Math.floor((span - label.length) / 2), label);
      out.push(labelLine.join('').trimEnd());
      const arrow = blank();
      put(arrow, 0, formatClock(row.record.time, o.utc));
      for (let x = lo + 1; x < hi; x++) arrow[x] = '─';
      if (row.to > row.from) arrow[hi - 1] = '▶';
      else arrow[lo + 1] = '◀';
      out.push(arrow.join('').trimEnd());
      if (o.full) out.push(formatFull(row.record, ' '.repeat(TIME_WIDTH)));
    });
    out.push(blank().join('').trimEnd());
    return `${out.join('\n')}\n`;
  }
}
