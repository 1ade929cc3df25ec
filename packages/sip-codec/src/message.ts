/**
 * The message object: a view over the input bytes with a header table, lazy structured
 * accessors (parsed on first access, cached) and the mutations the transport and ua need.
 */
import { parseAuthValue } from './auth.js';
import { SipErrorCode } from './errors.js';
import { H, canonicalHeaderName, canonicalNameOf, headerIdFromName } from './header-names.js';
import { methodName } from './methods.js';
import { parseContacts, parseNameAddr, parseNameAddrList } from './name-addr.js';
import { buildNameAddr } from './fast-name-addr.js';
import { buildTopVia } from './fast-via.js';
import { HS, ID_FLAGS, ID_MASK, LINE_START, NAME_END, VALUE_END, VALUE_START, latin1, rawName, rawValue, type HeaderTable } from './raw-headers.js';
import { assertLineSafe, fail, isToken, isTokenChar, parseDeltaSeconds, parseDigits, parseParams, skipWsp, splitCommas } from './scan.js';
import type {
  AuthValue, CSeq, Contact, HeaderField, NameAddr, RAck, SessionExpires, SipMessageBase, Via, ViaInit,
} from './types.js';
import { E } from './validate.js';
import { formatVia, formatViaWithParams, parseVia, parseViaList } from './via.js';

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

export abstract class MessageImpl implements SipMessageBase {
  readonly layout: MessageLayout;
  protected entries: HeaderEntry[] | null = null;
  protected startLineDirty = false;
  private bodyOverride: Uint8Array | null = null;
  /** Parsed header values by header id; made on the first structured read. */
  private cache: Map<number, unknown> | null = null;
  private topViaCache: Via | undefined;
  private fromCache: NameAddr | undefined;
  private toCache: NameAddr | undefined;
  private callIdCache: string | undefined;
  private cseqCache: CSeq | undefined;

  constructor(layout: MessageLayout) {
    this.layout = layout;
  }

  get modified(): boolean {
    return this.entries !== null || this.startLineDirty || this.bodyOverride !== null;
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

  /** The request's method; undefined for responses. */
  protected requestMethod(): string | undefined {
    return undefined;
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
    return rawValue(this.layout.buf, this.layout.h, i);
  }

  protected nameAt(i: number): string {
    if (this.entries !== null) return (this.entries[i] as HeaderEntry).name;
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

  // ---- structured accessors ------------------------------------------------------------------

  private cached<T>(key: number, make: () => T): T {
    this.cache ??= new Map<number, unknown>();
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const v = make();
    this.cache.set(key, v);
    return v;
  }

  /**
   * What the eager validation found, while the message is unchanged (null once edited or when
   * it was not validated): the accessors of the top Via, From, To, Call-ID and CSeq then build
   * their values from it instead of searching and parsing the headers again.
   */
  private found(): readonly number[] | null {
    return this.entries === null ? this.layout.eager : null;
  }

  /** From or To from the fast path's scan, when it accepted the value. */
  private fastAddr(f: readonly number[] | null, which: number, fast: number, scan: number): NameAddr | undefined {
    if (f === null || f[fast] !== 1) return undefined;
    const { buf, h } = this.layout;
    const at = f[which] as number;
    return buildNameAddr(buf, h[at * HS + VALUE_START] as number, h[at * HS + VALUE_END] as number, f, scan);
  }

  get via(): readonly Via[] {
    return this.cached(H.VIA, () => parseViaList(this.valuesById(H.VIA)));
  }

  get topVia(): Via {
    if (this.topViaCache !== undefined) return this.topViaCache;
    const f = this.found();
    if (f !== null && f[E.VIA_FAST] === 1) {
      this.topViaCache = buildTopVia(this.layout.buf, this.layout.h[(f[E.VIA] as number) * HS + VALUE_START] as number, f, E.VIA_SCAN);
      return this.topViaCache;
    }
    const first = this.firstById(H.VIA);
    if (first === undefined) fail(SipErrorCode.MISSING_HEADER, 'no Via header');
    const top = splitCommas(first)[0] ?? '';
    this.topViaCache = parseVia(top);
    return this.topViaCache;
  }

  private single(id: number): string {
    const v = this.firstById(id);
    if (v === undefined) fail(SipErrorCode.MISSING_HEADER, `no ${canonicalNameOf(id)} header`);
    return v;
  }

  get from(): NameAddr {
    this.fromCache ??= this.fastAddr(this.found(), E.FROM, E.FROM_FAST, E.FROM_SCAN) ?? parseNameAddr(this.single(H.FROM));
    return this.fromCache;
  }

  get to(): NameAddr {
    this.toCache ??= this.fastAddr(this.found(), E.TO, E.TO_FAST, E.TO_SCAN) ?? parseNameAddr(this.single(H.TO));
    return this.toCache;
  }

  get callId(): string {
    if (this.callIdCache === undefined) {
      // A validated Call-ID has no LWS, so its line is never folded.
      const f = this.found();
      this.callIdCache = f !== null ? rawValue(this.layout.buf, this.layout.h, f[E.CALL_ID] as number) : this.single(H.CALL_ID);
    }
    return this.callIdCache;
  }

  get cseq(): CSeq {
    if (this.cseqCache === undefined) {
      // Validation read the number and checked the method token; a request's CSeq method has
      // the same bytes as its method.
      const f = this.found();
      if (f !== null && f[E.CSEQ_FAST] === 1) {
        const method = this.requestMethod() ?? methodName(this.layout.buf, f[E.CSEQ_METHOD_START] as number, f[E.CSEQ_METHOD_END] as number);
        this.cseqCache = { seq: f[E.CSEQ_SEQ] as number, method };
      } else this.cseqCache = parseCSeq(this.single(H.CSEQ));
    }
    return this.cseqCache;
  }

  get maxForwards(): number | undefined {
    return this.cached(H.MAX_FORWARDS, () => {
      const v = this.firstById(H.MAX_FORWARDS);
      return v === undefined ? undefined : parseMaxForwards(v);
    });
  }

  get contentLength(): number | undefined {
    if (this.entries === null) return this.layout.contentLength;
    const v = this.firstById(H.CONTENT_LENGTH);
    return v === undefined ? undefined : parseDeltaSeconds(v, SipErrorCode.CONTENT_LENGTH, 'Content-Length');
  }

  get contentType(): string | undefined {
    return this.firstById(H.CONTENT_TYPE);
  }

  private contactList(): { wildcard: boolean; contacts: Contact[] } {
    return this.cached(H.CONTACT, () => parseContacts(this.valuesById(H.CONTACT)));
  }

  get contacts(): readonly Contact[] {
    return this.contactList().contacts;
  }

  get contactWildcard(): boolean {
    return this.contactList().wildcard;
  }

  private addrList(id: number): readonly NameAddr[] {
    return this.cached(id, () => parseNameAddrList(this.valuesById(id)));
  }

  get route(): readonly NameAddr[] {
    return this.addrList(H.ROUTE);
  }
  get recordRoute(): readonly NameAddr[] {
    return this.addrList(H.RECORD_ROUTE);
  }
  get path(): readonly NameAddr[] {
    return this.addrList(H.PATH);
  }

  private tokens(id: number): readonly string[] {
    return this.cached(id, () => {
      const out: string[] = [];
      for (const v of this.valuesById(id)) {
        for (const p of splitCommas(v)) {
          if (p.length === 0) continue;
          if (!isToken(p)) fail(SipErrorCode.HEADER_VALUE, `${canonicalNameOf(id)}: "${p.slice(0, 32)}" is not a token`);
          out.push(p);
        }
      }
      return out;
    });
  }

  get require(): readonly string[] {
    return this.tokens(H.REQUIRE);
  }
  get proxyRequire(): readonly string[] {
    return this.tokens(H.PROXY_REQUIRE);
  }
  get supported(): readonly string[] {
    return this.tokens(H.SUPPORTED);
  }
  get unsupported(): readonly string[] {
    return this.tokens(H.UNSUPPORTED);
  }
  get allow(): readonly string[] {
    return this.tokens(H.ALLOW);
  }

  private delta(id: number): number | undefined {
    return this.cached(id, () => {
      const v = this.firstById(id);
      return v === undefined ? undefined : parseDeltaSeconds(v, SipErrorCode.HEADER_VALUE, canonicalNameOf(id));
    });
  }

  get expires(): number | undefined {
    return this.delta(H.EXPIRES);
  }
  get minExpires(): number | undefined {
    return this.delta(H.MIN_EXPIRES);
  }
  get rseq(): number | undefined {
    return this.delta(H.RSEQ);
  }
  get minSE(): number | undefined {
    return this.cached(H.MIN_SE, () => {
      const v = this.firstById(H.MIN_SE);
      if (v === undefined) return undefined;
      const semi = v.indexOf(';');
      return parseDeltaSeconds(semi < 0 ? v : v.slice(0, semi), SipErrorCode.HEADER_VALUE, 'Min-SE');
    });
  }

  get rack(): RAck | undefined {
    return this.cached(H.RACK, () => {
      const v = this.firstById(H.RACK);
      if (v === undefined) return undefined;
      const parts = v.trim().split(/[ \t]+/);
      const rseq = parts.length === 3 ? parseDigits(parts[0] ?? '') : undefined;
      const cseq = parts.length === 3 ? parseDigits(parts[1] ?? '') : undefined;
      const method = parts[2] ?? '';
      if (rseq === undefined || cseq === undefined || rseq > 4294967295 || cseq > 4294967295 || !isToken(method)) {
        fail(SipErrorCode.HEADER_VALUE, `RAck: malformed "${v.slice(0, 48)}"`);
      }
      return { rseq, cseq, method };
    });
  }

  get sessionExpires(): SessionExpires | undefined {
    return this.cached(H.SESSION_EXPIRES, () => {
      const v = this.firstById(H.SESSION_EXPIRES);
      if (v === undefined) return undefined;
      const semi = v.indexOf(';');
      const delta = parseDeltaSeconds(semi < 0 ? v : v.slice(0, semi), SipErrorCode.HEADER_VALUE, 'Session-Expires');
      const params = semi < 0 ? new Map<string, string | null>() : parseParams(v, semi, v.length, SipErrorCode.HEADER_VALUE);
      return { delta, refresher: params.get('refresher') ?? undefined, params };
    });
  }

  private auth(id: number): readonly AuthValue[] {
    return this.cached(id, () => this.valuesById(id).map(parseAuthValue));
  }

  get wwwAuthenticate(): readonly AuthValue[] {
    return this.auth(H.WWW_AUTHENTICATE);
  }
  get proxyAuthenticate(): readonly AuthValue[] {
    return this.auth(H.PROXY_AUTHENTICATE);
  }
  get authorization(): readonly AuthValue[] {
    return this.auth(H.AUTHORIZATION);
  }
  get proxyAuthorization(): readonly AuthValue[] {
    return this.auth(H.PROXY_AUTHORIZATION);
  }

  // ---- mutations -----------------------------------------------------------------------------

  protected edit(): HeaderEntry[] {
    this.cache = null;
    this.topViaCache = undefined;
    this.fromCache = undefined;
    this.toCache = undefined;
    this.callIdCache = undefined;
    this.cseqCache = undefined;
    if (this.entries === null) {
      const { buf, h, count } = this.layout;
      const list: HeaderEntry[] = [];
      for (let i = 0; i < count; i++) {
        const o = i * HS;
        list.push({
          id: (h[o + ID_FLAGS] as number) & ID_MASK,
          idx: i,
          name: latin1(buf, h[o + LINE_START] as number, h[o + NAME_END] as number),
          value: rawValue(buf, h, i),
        });
      }
      this.entries = list;
    }
    return this.entries;
  }

  private indexOfId(list: readonly HeaderEntry[], id: number): number {
    for (let i = 0; i < list.length; i++) if ((list[i] as HeaderEntry).id === id) return i;
    return -1;
  }

  prependVia(via: ViaInit | string): void {
    const value = typeof via === 'string' ? via.trim() : formatVia(via);
    assertLineSafe(value, 'Via');
    parseVia(value);
    const list = this.edit();
    const at = this.indexOfId(list, H.VIA);
    list.splice(at < 0 ? 0 : at, 0, { id: H.VIA, idx: -1, name: 'Via', value });
  }

  setTopViaParams(params: Readonly<Record<string, string | number | null>>): void {
    for (const [k, v] of Object.entries(params)) {
      if (!isToken(k)) fail(SipErrorCode.INVALID_VALUE, `Via parameter name "${k}" is not a token`);
      if (v !== null) assertParamValue(String(v), k);
    }
    const list = this.edit();
    const at = this.indexOfId(list, H.VIA);
    if (at < 0) fail(SipErrorCode.MISSING_HEADER, 'no Via header');
    const parts = splitCommas((list[at] as HeaderEntry).value);
    const top = formatViaWithParams(parseVia(parts[0] ?? ''), params);
    list[at] = { id: H.VIA, idx: -1, name: 'Via', value: [top, ...parts.slice(1)].join(', ') };
  }

  removeTopVia(): void {
    const list = this.edit();
    const at = this.indexOfId(list, H.VIA);
    if (at < 0) fail(SipErrorCode.MISSING_HEADER, 'no Via header');
    const parts = splitCommas((list[at] as HeaderEntry).value);
    if (parts.length <= 1) list.splice(at, 1);
    else list[at] = { id: H.VIA, idx: -1, name: 'Via', value: parts.slice(1).join(', ') };
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

function assertParamValue(v: string, name: string): void {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 0x20 || c === 0x3b || c === 0x2c || c === 0x7f) {
      fail(SipErrorCode.INVALID_VALUE, `value of parameter ${name} has a forbidden character`);
    }
  }
}

function newEntry(name: string, value: string): HeaderEntry {
  if (!isToken(name)) fail(SipErrorCode.INVALID_VALUE, `header name "${name.slice(0, 32)}" is not a token`);
  assertLineSafe(value, name);
  return { id: headerIdFromName(name), idx: -1, name: canonicalHeaderName(name), value: value.trim() };
}

/** CSeq = 1*DIGIT LWS Method, the number below 2^32 (RFC 3261 §20.16). */
export function parseCSeq(v: string): CSeq {
  const n = v.length;
  let i = skipWsp(v, 0, n);
  const ds = i;
  while (i < n && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39) i++;
  const seq = parseDigits(v, ds, i);
  if (seq === undefined || seq > 4294967295) fail(SipErrorCode.CSEQ, `CSeq number missing or above 2^32-1: "${v.slice(0, 48)}"`);
  const ms = skipWsp(v, i, n);
  if (ms === i) fail(SipErrorCode.CSEQ, 'CSeq: expected LWS after the number');
  let e = ms;
  while (e < n && isTokenChar(v.charCodeAt(e))) e++;
  if (e === ms || skipWsp(v, e, n) !== n) fail(SipErrorCode.CSEQ, `CSeq method is not a token: "${v.slice(0, 48)}"`);
  return { seq, method: v.slice(ms, e) };
}

/** Max-Forwards = 1*DIGIT, 0..255. */
export function parseMaxForwards(v: string): number {
  const t = v.trim();
  const n = parseDigits(t);
  if (n === undefined || n > 255) fail(SipErrorCode.MAX_FORWARDS, `Max-Forwards not in 0..255: "${t.slice(0, 32)}"`);
  return n;
}
