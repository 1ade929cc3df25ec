/**
 * @sipnats/sip-codec — RFC 3261 SIP messages: bytes ⇄ messages, and stream framing.
 *
 * Contract
 *
 * Accepts
 * - Requests and responses with CRLF or bare LF line ends; leading CRLFs before the start line;
 *   header names in any case and in compact form (i m f t v l c e k s o r b x u a j d y n);
 *   folded header lines (LWS continuation); repeated headers and comma lists (commas inside
 *   quoted strings or <...> do not split); LWS around ':' and inside Via's sent-protocol;
 *   several SP between Request-Line elements and SP after the version (RFC 4475 §3.1.2.9/10);
 *   URIs of any scheme (sip, sips, tel parsed; others kept opaque); IPv6 references in the RFC 4291
 *   text forms, and the `:::` before an IPv4 tail that RFC 5118 §4.10 asks to tolerate; "SIP" of
 *   the SIP-Version in any case (RFC 3261 §7.1).
 * - Datagrams (default): no Content-Length → the body is the rest of the datagram; a smaller
 *   Content-Length → the trailing octets are ignored (RFC 3261 §18.3; RFC 4475 dblreq, inv2543).
 *   A datagram whose header section ends with the input (no empty line) has an empty body.
 * - Streams (StreamFramer, or `transport: 'stream'`): Content-Length is mandatory; CRLFCRLF
 *   between messages is reported as a ping and a lone CRLF as a pong (RFC 5626 §3.5.1).
 *
 * Rejects, eagerly in parseMessage, with a SipParseError whose `answer` says 400, 505 or 'drop'
 * - Start line: a method that is not a token, a Request-URI with LWS or that is not a URI, a
 *   version other than SIP/2.0 (SIP_ERR_VERSION → 505), a status code outside 100..699.
 * - Header lines that are not `token LWS? ':' value`; a CR anywhere but right before LF (in the
 *   start line or a header line: RFC 3261 §7.3.1 has no bare CR, not even in a quoted-pair).
 * - Missing Via, From, To, Call-ID or CSeq; From/To/Call-ID/CSeq/Max-Forwards repeated with
 *   different values; a malformed top Via, From or To; a Call-ID with LWS; CSeq not
 *   `number method` with the number below 2^32 or with a method differing from the request's;
 *   Max-Forwards outside 0..255. The top Via's branch is read but not required (RFC 2543 peers).
 *   `ParseOptions.allowMissingVia` lets a request without Via through: one a UA core hands to
 *   its own transport (RFC 3261 §8.1.1.7), never network input; a response always needs one.
 *   Such a request has an empty `via`, and its `topVia` throws SIP_ERR_MISSING_HEADER.
 * - Negative, non-numeric or conflicting Content-Length (SIP_ERR_CONTENT_LENGTH, framing),
 *   Content-Length beyond the datagram (SIP_ERR_BODY_TRUNCATED), limits exceeded (message size,
 *   header count, line length: each its own code).
 * Other headers are checked only when read through an accessor, which then throws SipParseError.
 * The top Via, From and To of common shape are read by byte-level fast paths that accept only
 * what the general parsers accept and give the same values (tested differentially); their
 * objects may compute `raw`, `uri`, `params` and `displayName` on first read, which never throws.
 *
 * Never
 * - opens sockets, starts timers, reads the environment or logs;
 * - copies the body (it is a view into the input) or rewrites headers nobody changed: an
 *   unchanged message serializes to exactly its input bytes, and unchanged header lines of a
 *   changed message are copied byte for byte, in order;
 * - throws anything but SipParseError on input, and never uses backtracking regular expressions:
 *   time is linear in the input, however it is chunked.
 */
export { SipErrorCode, SipParseError, isSipParseError } from './errors.js';
export type { SipErrorAnswer, SipParseErrorOptions } from './errors.js';
export { parseMessage, DEFAULT_LIMITS } from './parse.js';
export { serializeMessage } from './serialize.js';
export { createRequest, createResponse } from './build.js';
export type { CreateRequestInit, CreateResponseOptions } from './build.js';
export { StreamFramer } from './framer.js';
export type { FramerEvent } from './framer.js';
export { parseUri, formatUri } from './uri.js';
export type { SipUriInit } from './uri.js';
export { parseNameAddr, parseContact, formatNameAddr } from './name-addr.js';
export { uriTextOf } from './fast-name-addr.js';
export { parseVia, formatVia } from './via.js';
export { parseAuthValue, formatAuthValue } from './auth.js';
export { reasonPhrase } from './reason-phrases.js';
export { COMPACT_FORMS, canonicalHeaderName } from './header-names.js';
export { decodePercent } from './scan.js';
export type {
  AuthValue,
  CSeq,
  Contact,
  HeaderField,
  HostKind,
  NameAddr,
  Params,
  ParseOptions,
  RAck,
  SessionExpires,
  SipLimits,
  SipMessage,
  SipMessageBase,
  SipRequest,
  SipResponse,
  SipUri,
  Via,
  ViaInit,
} from './types.js';
