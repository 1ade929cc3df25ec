/**
 * The header part of a message: a view over the input bytes and its header table while the
 * message is unchanged, a list of entries once edited (unchanged input lines keep their index so
 * that serialization copies their bytes), plain header access and the plain header mutations.
 * One line may be replaced without making the list (`patchLine`: the transport's Via stamp on
 * every request), so that the view, and what was read through it, stays.
 */
import { SipErrorCode } from './errors.js';
import { canonicalHeaderName, headerIdFromName } from './header-names.js';
import { HS, ID_FLAGS, ID_MASK, LINE_START, NAME_END, latin1, rawName, rawValue, type HeaderTable } from './raw-headers.js';
import { assertLineSafe, fail, isToken, splitCommas } from './scan.js';
import type { HeaderField } from './types.js';

/** A header after the first mutation: either a line of the input (idx ≥ 0) or a new value. */
export interface HeaderEntry {
  readonly id: number;
  /** Header table index of an unchanged input line, or -1. */
  readonly idx: number;
  readonly name: string;
  readonly value: string;
}

/** Layout of the input, filled in by the parser. */
export interface MessageLayout {
  readonly buf: Buffer;
  readonly start: number;
  /** Offset just after the start line's line end. */
  readonly startLineEnd: number;
  readonly h: HeaderTable;
  readonly count: number;
  /** Offset of the empty line that ends the header section (== bodyStart when absent). */
  readonly blankStart: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly contentLength: number | undefined;
  /** What the eager validation found (slots E in validate.ts); null for unvalidated messages. */
  readonly eager: readonly number[] | null;
}

/** A new header entry from a caller's name and value (checked: token name, one-line value). */
export function newEntry(name: string, value: string): HeaderEntry {
  if (!isToken(name)) fail(SipErrorCode.INVALID_VALUE, `header name "${name.slice(0, 32)}" is not a token`);
  assertLineSafe(value, name);
  return { id: headerIdFromName(name), idx: -1, name: canonicalHeaderName(name), value: value.trim() };
}

export abstract class HeaderStore {
  readonly layout: MessageLayout;
  protected entries: HeaderEntry[] | null = null;
  /** While `entries` is null: the header table index of a replaced line (-1: none), its name and value. */
  private patchIdx = -1;
  private patchName = '';
  private patchValue = '';
  protected startLineDirty = false;
  private bodyOverride: Uint8Array | null = null;

  constructor(layout: MessageLayout) {
    this.layout = layout;
  }

  /** Drops whatever was derived from the headers; called before every header mutation. */
  protected abstract invalidate(): void;

  get modified(): boolean {
    return this.entries !== null || this.patchIdx >= 0 || this.startLineDirty || this.bodyOverride !== null;
  }

  /** The line replaced by `patchLine` while the message has no entry list, or null. */
  get patchedLine(): { readonly idx: number; readonly name: string; readonly value: string } | null {
    return this.patchIdx < 0 ? null : { idx: this.patchIdx, name: this.patchName, value: this.patchValue };
  }

  /** Whether a line was replaced by `patchLine` (and no entry list made since). */
  protected get patched(): boolean {
    return this.patchIdx >= 0;
  }

  /**
   * Replaces header line `idx` of the input by `name: value` (checked by the caller) without
   * making the entry list; false when the message is already edited or patched (the caller then
   * edits). Derived values are the caller's to update.
   */
  protected patchLine(idx: number, name: string, value: string): boolean {
    if (this.entries !== null || this.patchIdx >= 0) return false;
    this.patchIdx = idx;
    this.patchName = name;
    this.patchValue = value;
    return true;
  }

  get isStartLineDirty(): boolean {
    return this.startLineDirty;
  }

  /** Header entries after mutation, or null while the message is unchanged. */
  get editedEntries(): readonly HeaderEntry[] | null {
    return this.entries;
  }

  get bodyReplaced(): boolean {
    return this.bodyOverride !== null;
  }

  // ---- header access -------------------------------------------------------------------------

  protected count(): number {
    return this.entries === null ? this.layout.count : this.entries.length;
  }

  protected idAt(i: number): number {
    if (this.entries !== null) return (this.entries[i] as HeaderEntry).id;
    return (this.layout.h[i * HS + ID_FLAGS] as number) & ID_MASK;
  }

  protected valueAt(i: number): string {
    if (this.entries !== null) return (this.entries[i] as HeaderEntry).value;
    if (i === this.patchIdx) return this.patchValue;
    return rawValue(this.layout.buf, this.layout.h, i);
  }

  protected nameAt(i: number): string {
    if (this.entries !== null) return (this.entries[i] as HeaderEntry).name;
    if (i === this.patchIdx) return this.patchName;
    return rawName(this.layout.buf, this.layout.h, i);
  }

  private matches(i: number, id: number, lower: string): boolean {
    const hid = this.idAt(i);
    if (id !== 0) return hid === id;
    return hid === 0 && this.nameAt(i).toLowerCase() === lower;
  }

  /** Values of every line with this header id (fast path for known headers). */
  valuesById(id: number): string[] {
    const out: string[] = [];
    const n = this.count();
    for (let i = 0; i < n; i++) if (this.idAt(i) === id) out.push(this.valueAt(i));
    return out;
  }

  firstById(id: number): string | undefined {
    const n = this.count();
    for (let i = 0; i < n; i++) if (this.idAt(i) === id) return this.valueAt(i);
    return undefined;
  }

  headers(): HeaderField[] {
    const out: HeaderField[] = [];
    const n = this.count();
    for (let i = 0; i < n; i++) out.push([this.nameAt(i), this.valueAt(i)]);
    return out;
  }

  getHeader(name: string): string | undefined {
    const id = headerIdFromName(name);
    const lower = name.toLowerCase();
    const n = this.count();
    for (let i = 0; i < n; i++) if (this.matches(i, id, lower)) return this.valueAt(i);
    return undefined;
  }

  getHeaders(name: string): string[] {
    const id = headerIdFromName(name);
    const lower = name.toLowerCase();
    const out: string[] = [];
    const n = this.count();
    for (let i = 0; i < n; i++) if (this.matches(i, id, lower)) out.push(this.valueAt(i));
    return out;
  }

  getHeaderValues(name: string): string[] {
    const out: string[] = [];
    for (const v of this.getHeaders(name)) for (const p of splitCommas(v)) if (p.length > 0) out.push(p);
    return out;
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  get body(): Uint8Array {
    if (this.bodyOverride !== null) return this.bodyOverride;
    return this.layout.buf.subarray(this.layout.bodyStart, this.layout.bodyEnd);
  }

  // ---- mutations -----------------------------------------------------------------------------

  /** The entry list, made from the header table on the first mutation; derived values dropped. */
  protected edit(): HeaderEntry[] {
    this.invalidate();
    if (this.entries === null) {
      const { buf, h, count } = this.layout;
      const list: HeaderEntry[] = [];
      for (let i = 0; i < count; i++) {
        const o = i * HS;
        const id = (h[o + ID_FLAGS] as number) & ID_MASK;
        if (i === this.patchIdx) list.push({ id, idx: -1, name: this.patchName, value: this.patchValue });
        else list.push({ id, idx: i, name: latin1(buf, h[o + LINE_START] as number, h[o + NAME_END] as number), value: rawValue(buf, h, i) });
      }
      this.entries = list;
      this.patchIdx = -1;
    }
    return this.entries;
  }

  protected indexOfId(list: readonly HeaderEntry[], id: number): number {
    for (let i = 0; i < list.length; i++) if ((list[i] as HeaderEntry).id === id) return i;
    return -1;
  }

  addHeader(name: string, value: string, first = false): void {
    const entry = newEntry(name, value);
    const list = this.edit();
    if (first) list.unshift(entry);
    else list.push(entry);
  }

  setHeader(name: string, value: string): void {
    const entry = newEntry(name, value);
    const list = this.edit();
    const lower = name.toLowerCase();
    let at = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i] as HeaderEntry;
      if (entry.id !== 0 ? e.id === entry.id : e.id === 0 && e.name.toLowerCase() === lower) {
        list.splice(i, 1);
        at = i;
      }
    }
    if (at < 0) list.push(entry);
    else list.splice(at, 0, entry);
  }

  removeHeader(name: string): number {
    const id = headerIdFromName(name);
    const lower = name.toLowerCase();
    const list = this.edit();
    let removed = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i] as HeaderEntry;
      if (id !== 0 ? e.id === id : e.id === 0 && e.name.toLowerCase() === lower) {
        list.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  setBody(body: Uint8Array | string, contentType?: string): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (contentType !== undefined) this.setHeader('Content-Type', contentType);
    this.setHeader('Content-Length', String(bytes.length));
    this.bodyOverride = bytes;
  }
}
