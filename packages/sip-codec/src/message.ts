/**
 * The message object: a view over the input bytes (header access and plain header mutations in
 * HeaderStore) with lazy structured accessors (parsed on first access, cached) and the Via
 * mutations the transport needs.
 */
import { parseAuthValue } from './auth.js';
import { SipErrorCode } from './errors.js';
import { H, canonicalNameOf } from './header-names.js';
import { HeaderStore, type HeaderEntry } from './header-store.js';
import { parseCSeq, parseMaxForwards, parseMinSE, parseRAck, parseSessionExpires } from './header-values.js';
import { methodName } from './methods.js';
import { parseContacts, parseNameAddr, parseNameAddrList } from './name-addr.js';
import { buildNameAddr } from './fast-name-addr.js';
import { buildTopVia, formatScannedVia, scannedViaEnd, stampedVia, viaStamp } from './fast-via.js';
import { HS, VALUE_END, VALUE_START, rawValue } from './raw-headers.js';
import { assertLineSafe, fail, isToken, parseDeltaSeconds, splitCommas } from './scan.js';
import type { AuthValue, CSeq, Contact, NameAddr, RAck, SessionExpires, SipMessageBase, Via, ViaInit } from './types.js';
import { E } from './validate.js';
import { formatVia, formatViaWithParams, parseVia, parseViaList } from './via.js';

export type { HeaderEntry, MessageLayout } from './header-store.js';

const NO_ADDRESSES: readonly NameAddr[] = Object.freeze([]);

export abstract class MessageImpl extends HeaderStore implements SipMessageBase {
  /** Parsed header values by header id; made on the first structured read. */
  private cache: Map<number, unknown> | null = null;
  private topViaCache: Via | undefined;
  private fromCache: NameAddr | undefined;
  private toCache: NameAddr | undefined;
  private callIdCache: string | undefined;
  private cseqCache: CSeq | undefined;

  /** The request's method; undefined for responses. */
  protected requestMethod(): string | undefined {
    return undefined;
  }

  // ---- structured accessors ------------------------------------------------------------------

  private cached<T>(key: number, make: () => T): T {
    this.cache ??= new Map<number, unknown>();
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const v = make();
    this.cache.set(key, v);
    return v;
  }

  /** The first header with this id parsed by `parse` (cached), or undefined when absent. */
  private parsedFirst<T>(id: number, parse: (value: string) => T): T | undefined {
    return this.cached(id, () => {
      const v = this.firstById(id);
      return v === undefined ? undefined : parse(v);
    });
  }

  /**
   * What the eager validation found, while the message has no entry list (null once edited or
   * when it was not validated): the accessors of the top Via, From, To, Call-ID and CSeq then
   * build their values from it instead of searching and parsing the headers again. A patched Via
   * line (stampScannedVia) leaves the other slots true; the top Via is then kept in its cache.
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
    if (f !== null && f[E.VIA_FAST] === 1 && !this.patched) {
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
    return this.parsedFirst(H.MAX_FORWARDS, parseMaxForwards);
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
    // Most requests have no Route (read for each by the transport): nothing to parse or cache.
    if (this.firstById(id) === undefined) return NO_ADDRESSES;
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
    return this.parsedFirst(H.MIN_SE, parseMinSE);
  }

  get rack(): RAck | undefined {
    return this.parsedFirst(H.RACK, parseRAck);
  }

  get sessionExpires(): SessionExpires | undefined {
    return this.parsedFirst(H.SESSION_EXPIRES, parseSessionExpires);
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

  protected invalidate(): void {
    this.cache = null;
    this.topViaCache = undefined;
    this.fromCache = undefined;
    this.toCache = undefined;
    this.callIdCache = undefined;
    this.cseqCache = undefined;
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
    if (this.stampScannedVia(params)) return;
    const list = this.edit();
    const at = this.indexOfId(list, H.VIA);
    if (at < 0) fail(SipErrorCode.MISSING_HEADER, 'no Via header');
    const parts = splitCommas((list[at] as HeaderEntry).value);
    const top = formatViaWithParams(parseVia(parts[0] ?? ''), params);
    list[at] = { id: H.VIA, idx: -1, name: 'Via', value: [top, ...parts.slice(1)].join(', ') };
  }

  /**
   * setTopViaParams for the transport's stamp (received, rport) on an unchanged message whose top
   * Via the fast path read and which has no other value on its line: the same Via line as the
   * general way, but only that line is replaced (patchLine), so what was read from the view stays
   * (From, To, Call-ID, CSeq) and the top Via is known without parsing it again. False when it
   * does not apply.
   */
  private stampScannedVia(params: Readonly<Record<string, string | number | null>>): boolean {
    const f = this.found();
    if (f === null || f[E.VIA_FAST] !== 1 || this.patched) return false;
    const stamp = viaStamp(params);
    if (stamp === undefined) return false;
    const { buf, h } = this.layout;
    const at = f[E.VIA] as number;
    if (scannedViaEnd(f, E.VIA_SCAN) !== h[at * HS + VALUE_END]) return false;
    const base = this.topVia;
    const value = formatScannedVia(buf, h[at * HS + VALUE_START] as number, f, E.VIA_SCAN, params);
    if (!this.patchLine(at, 'Via', value)) return false;
    this.topViaCache = stampedVia(base, value, stamp);
    this.cache?.delete(H.VIA);
    return true;
  }

  removeTopVia(): void {
    const list = this.edit();
    const at = this.indexOfId(list, H.VIA);
    if (at < 0) fail(SipErrorCode.MISSING_HEADER, 'no Via header');
    const parts = splitCommas((list[at] as HeaderEntry).value);
    if (parts.length <= 1) list.splice(at, 1);
    else list[at] = { id: H.VIA, idx: -1, name: 'Via', value: parts.slice(1).join(', ') };
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
