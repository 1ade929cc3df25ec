/**
 * The parts of a parsed SIP message the protocol core reads, and the shapes it emits.
 *
 * The read-side interfaces are structural subsets of `@sipnats/sip-codec`'s `SipRequest`, so a
 * parsed request is passed as it is; tests build plain objects. The emit-side shapes are data: a
 * response or request spec with complete header lists, turned into bytes by the codec at the edge.
 */

/** Parameters in wire order; keys lower-case, value null for a flag parameter. */
export type ParamsView = ReadonlyMap<string, string | null>;

export interface UriView {
  readonly scheme: string;
  readonly raw: string;
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: ParamsView;
}

export interface NameAddrView {
  /** The value exactly as received. */
  readonly raw: string;
  readonly uri: UriView;
  readonly params: ParamsView;
  readonly tag: string | undefined;
}

export interface ContactView extends NameAddrView {
  readonly expires: number | undefined;
  readonly q: number | undefined;
}

export interface ViaView {
  readonly raw: string;
  readonly transport: string;
}

export interface CSeqView {
  readonly seq: number;
  readonly method: string;
}

export interface RAckView {
  readonly rseq: number;
  readonly cseq: number;
  readonly method: string;
}

export interface SessionExpiresView {
  readonly delta: number;
  readonly refresher: string | undefined;
}

/** A credentials or challenge value (auth-params lower-case, values unquoted). */
export interface AuthValueView {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

/** What the core reads from a request. `@sipnats/sip-codec`'s SipRequest satisfies it. */
export interface RequestView {
  readonly method: string;
  /** The Request-URI as received. */
  readonly uri: string;
  readonly requestUri: UriView;
  readonly via: readonly ViaView[];
  readonly from: NameAddrView;
  readonly to: NameAddrView;
  readonly callId: string;
  readonly cseq: CSeqView;
  readonly contacts: readonly ContactView[];
  readonly contactWildcard: boolean;
  readonly recordRoute: readonly NameAddrView[];
  readonly path: readonly NameAddrView[];
  readonly require: readonly string[];
  readonly supported: readonly string[];
  readonly expires: number | undefined;
  readonly rack: RAckView | undefined;
  readonly sessionExpires: SessionExpiresView | undefined;
  readonly minSE: number | undefined;
  readonly authorization: readonly AuthValueView[];
  readonly proxyAuthorization: readonly AuthValueView[];
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
  getHeader(name: string): string | undefined;
}

/** What the core reads from a response to a request it sent. */
export interface ResponseView {
  readonly status: number;
  readonly reason: string;
  readonly callId: string;
  readonly cseq: CSeqView;
  readonly from: NameAddrView;
  readonly to: NameAddrView;
  readonly contacts: readonly ContactView[];
  readonly recordRoute: readonly NameAddrView[];
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
  /** Min-SE (RFC 4028), read from a 422; may throw for a malformed header. */
  readonly minSE?: number | undefined;
  getHeader(name: string): string | undefined;
}

/** A header as [name, value]; one line, no CR or LF. */
export type Header = readonly [name: string, value: string];

/** A body to send. */
export interface BodySpec {
  readonly contentType: string;
  readonly content: string;
}

/**
 * A response to send. `headers` is complete: Via, From, To (with tag), Call-ID, CSeq first (copied
 * from the request per RFC 3261 §8.2.6.2), then the rest. Content-Length is left to the encoder.
 */
export interface ResponseSpec {
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly Header[];
  readonly body?: BodySpec;
}

/**
 * A request to send (in-dialog or new). Headers hold everything but Via and Content-Length, which
 * the transport and the encoder add.
 */
export interface RequestSpec {
  readonly method: string;
  readonly requestUri: string;
  readonly headers: readonly Header[];
  readonly body?: BodySpec;
}

/** The reason phrase for a status code: the codec's table (RFC 3261 §21 and later RFCs). */
export { reasonPhrase } from '@sipnats/sip-codec';

/** Quotes a value as an RFC 3261 quoted-string (backslash-escaping `"` and `\`). */
export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Decodes a body as UTF-8 text. */
export function bodyText(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}
