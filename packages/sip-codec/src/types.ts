/**
 * Public shapes of parsed SIP values and messages.
 */

/** Parameters in wire order; keys lower-case, value null for a flag parameter (`;lr`). */
export type Params = ReadonlyMap<string, string | null>;

export type HostKind = 'ipv4' | 'ipv6' | 'domain';

/** A URI. sip/sips are parsed into parts; other schemes (tel included) keep `opaque`. */
export interface SipUri {
  /** Lower-case scheme: 'sip', 'sips', 'tel' or anything else. */
  readonly scheme: string;
  /** The URI exactly as received. */
  readonly raw: string;
  /** User part, %-escapes kept as received (use decodePercent to decode). tel: the number. */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Host as written; an IPv6 reference keeps its brackets. '' for opaque URIs. */
  readonly host: string;
  readonly hostKind: HostKind | undefined;
  readonly port: number | undefined;
  /** uri-parameters (sip/sips/tel), names lower-case, values as received. */
  readonly params: Params;
  /** URI headers after '?', in order, as received (still %-escaped). */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  /** For schemes other than sip/sips: everything after `scheme:`. */
  readonly opaque: string | undefined;
}

/** A name-addr or addr-spec with header parameters (From, To, Contact, Route...). */
export interface NameAddr {
  /** The value exactly as received (folding replaced by a space). */
  readonly raw: string;
  /** Display name: unquoted and unescaped, or the token sequence; undefined when absent. */
  readonly displayName: string | undefined;
  readonly uri: SipUri;
  /** Header parameters after the URI (not the URI's own parameters). */
  readonly params: Params;
  readonly tag: string | undefined;
}

/** One Contact value. */
export interface Contact extends NameAddr {
  readonly expires: number | undefined;
  readonly q: number | undefined;
}

/** One Via value. */
export interface Via {
  readonly raw: string;
  /** 'SIP/2.0' (protocol name and version, LWS removed). */
  readonly protocol: string;
  /** Upper-case transport: UDP, TCP, TLS, SCTP, WS, WSS or anything else. */
  readonly transport: string;
  /** sent-by host; an IPv6 reference keeps its brackets. */
  readonly host: string;
  readonly hostKind: HostKind;
  readonly port: number | undefined;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** true for a bare `;rport`, the number for `;rport=N`, undefined when absent. */
  readonly rport: number | true | undefined;
  readonly params: Params;
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export interface RAck {
  readonly rseq: number;
  readonly cseq: number;
  readonly method: string;
}

export interface SessionExpires {
  readonly delta: number;
  readonly refresher: string | undefined;
  readonly params: Params;
}

/** A challenge or credentials value (WWW-/Proxy-Authenticate, (Proxy-)Authorization). */
export interface AuthValue {
  readonly raw: string;
  /** Scheme as received (Digest, Basic, or an unknown scheme). */
  readonly scheme: string;
  /** auth-params, names lower-case, quoted strings unquoted and unescaped. */
  readonly params: ReadonlyMap<string, string>;
  /** token68 form (`Basic dXNlcg==`), when the value is not a parameter list. */
  readonly token68: string | undefined;
}

/** Fields of a Via to prepend. */
export interface ViaInit {
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  readonly branch: string;
  /** Extra parameters in order; null makes a flag (`;rport`). */
  readonly params?: Readonly<Record<string, string | number | null>>;
}

/** A header as [name, value]; the value is a single line (no CR or LF). */
export type HeaderField = readonly [name: string, value: string];

/** Members common to requests and responses. */
export interface SipMessageBase {
  /** Headers in order, names as on the wire, values unfolded. */
  headers(): HeaderField[];
  /** Value of the first header with this name (case-insensitive, compact forms too). */
  getHeader(name: string): string | undefined;
  /** Values of every header line with this name, in order (not split at commas). */
  getHeaders(name: string): string[];
  /** Values across repeated headers and comma lists (commas in quotes and <> do not split). */
  getHeaderValues(name: string): string[];
  hasHeader(name: string): boolean;
  /** The body: a view into the input, never a copy. */
  readonly body: Uint8Array;

  /** Every Via value, top first; empty for a request without Via (see ParseOptions.allowMissingVia). */
  readonly via: readonly Via[];
  /** The top Via. Throws SipParseError(SIP_ERR_MISSING_HEADER) when the message has no Via. */
  readonly topVia: Via;
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: CSeq;
  readonly maxForwards: number | undefined;
  /** Declared Content-Length; undefined when the header is absent. */
  readonly contentLength: number | undefined;
  readonly contentType: string | undefined;
  readonly contacts: readonly Contact[];
  /** True for `Contact: *`. */
  readonly contactWildcard: boolean;
  readonly route: readonly NameAddr[];
  readonly recordRoute: readonly NameAddr[];
  readonly path: readonly NameAddr[];
  readonly require: readonly string[];
  readonly proxyRequire: readonly string[];
  readonly supported: readonly string[];
  readonly unsupported: readonly string[];
  readonly allow: readonly string[];
  readonly expires: number | undefined;
  readonly minExpires: number | undefined;
  readonly rseq: number | undefined;
  readonly rack: RAck | undefined;
  readonly sessionExpires: SessionExpires | undefined;
  readonly minSE: number | undefined;
  readonly wwwAuthenticate: readonly AuthValue[];
  readonly proxyAuthenticate: readonly AuthValue[];
  readonly authorization: readonly AuthValue[];
  readonly proxyAuthorization: readonly AuthValue[];

  /** Puts a new Via on top. */
  prependVia(via: ViaInit | string): void;
  /** Sets (or adds) parameters of the top Via; null makes a flag. */
  setTopViaParams(params: Readonly<Record<string, string | number | null>>): void;
  /** Removes the top Via value (and its header line when it was the only value). */
  removeTopVia(): void;
  /** Appends a header (or puts it first among headers when `first`). */
  addHeader(name: string, value: string, first?: boolean): void;
  /** Replaces every header with this name by one, at the place of the first (appended if none). */
  setHeader(name: string, value: string): void;
  /** Removes every header with this name; returns how many lines went. */
  removeHeader(name: string): number;
  /** Sets the body and Content-Length (and Content-Type when given). */
  setBody(body: Uint8Array | string, contentType?: string): void;
  /** True once any mutation happened. */
  readonly modified: boolean;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  readonly method: string;
  /** The Request-URI as received. */
  readonly uri: string;
  readonly requestUri: SipUri;
  setRequestUri(uri: string | SipUri): void;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/** Limits applied while parsing and framing. */
export interface SipLimits {
  /** Whole message (headers and body), bytes. Default 65536. */
  readonly maxMessageBytes?: number;
  /** Header lines (folded lines count once per physical line). Default 256. */
  readonly maxHeaders?: number;
  /** One physical line, bytes. Default 8192. */
  readonly maxLineBytes?: number;
}

export interface ParseOptions extends SipLimits {
  /**
   * 'datagram' (default): a missing Content-Length means the body is the rest of the input, a
   * smaller one leaves trailing octets ignored. 'stream': Content-Length is mandatory and the
   * input must hold exactly one message.
   */
  readonly transport?: 'datagram' | 'stream';
  /**
   * Accept a request that has no Via at all (default false: SIP_ERR_MISSING_HEADER, as for any
   * other missing header). Only for a request a UA core hands to its own transport layer, which
   * puts the first Via on it (RFC 3261 §8.1.1.7, §18.1.1); never for input from the network. A
   * response without Via is refused whatever this says (it could not be routed, §18.2.2). On
   * such a request `via` is empty, `topVia`, `setTopViaParams` and `removeTopVia` throw
   * SipParseError(SIP_ERR_MISSING_HEADER), and `prependVia` adds the first Via.
   */
  readonly allowMissingVia?: boolean;
}
