/**
 * The one error class the codec throws on input, with stable codes.
 */

/** Stable error codes. A code is never reused for another meaning. */
export const SipErrorCode = {
  /** The input holds no message (empty, or only CRLF). */
  EMPTY: 'SIP_ERR_EMPTY',
  /** The start line is neither a Request-Line nor a Status-Line. */
  START_LINE: 'SIP_ERR_START_LINE',
  /** The method is not a token. */
  METHOD: 'SIP_ERR_METHOD',
  /** The Request-URI is missing, has LWS or is not a URI. */
  REQUEST_URI: 'SIP_ERR_REQUEST_URI',
  /** The SIP-Version is not SIP/2.0 (a UAS answers 505). */
  VERSION: 'SIP_ERR_VERSION',
  /** The status code is not three digits in 100..699. */
  STATUS_CODE: 'SIP_ERR_STATUS_CODE',
  /** A header line is not `name: value` with a token name, or holds a control character. */
  HEADER_SYNTAX: 'SIP_ERR_HEADER_SYNTAX',
  /** The header section does not end with an empty line. */
  HEADER_UNTERMINATED: 'SIP_ERR_HEADER_UNTERMINATED',
  /** A header every request or response needs is absent. */
  MISSING_HEADER: 'SIP_ERR_MISSING_HEADER',
  /** A header that must appear once appears several times with different values. */
  DUPLICATE_HEADER: 'SIP_ERR_DUPLICATE_HEADER',
  /** A Via value is malformed (or the top Via has no branch). */
  VIA: 'SIP_ERR_VIA',
  /** CSeq is not `number method` with a 32-bit number. */
  CSEQ: 'SIP_ERR_CSEQ',
  /** The CSeq method differs from the request method. */
  CSEQ_METHOD: 'SIP_ERR_CSEQ_METHOD',
  /** Max-Forwards is not a number in 0..255. */
  MAX_FORWARDS: 'SIP_ERR_MAX_FORWARDS',
  /** A From/To/Contact/Route value is not a valid name-addr or addr-spec. */
  NAME_ADDR: 'SIP_ERR_NAME_ADDR',
  /** A URI is malformed. */
  URI: 'SIP_ERR_URI',
  /** A structured header value (number, token list, auth params...) is malformed. */
  HEADER_VALUE: 'SIP_ERR_HEADER_VALUE',
  /** Content-Length is negative, not a number, or conflicting (framing error). */
  CONTENT_LENGTH: 'SIP_ERR_CONTENT_LENGTH',
  /** Content-Length is absent on a stream transport (framing error). */
  CONTENT_LENGTH_MISSING: 'SIP_ERR_CONTENT_LENGTH_MISSING',
  /** Content-Length is larger than the octets that follow in the datagram. */
  BODY_TRUNCATED: 'SIP_ERR_BODY_TRUNCATED',
  /** The message exceeds the configured size limit. */
  MESSAGE_TOO_LARGE: 'SIP_ERR_MESSAGE_TOO_LARGE',
  /** The message has more header lines than the configured limit. */
  TOO_MANY_HEADERS: 'SIP_ERR_TOO_MANY_HEADERS',
  /** A line (start line or physical header line) exceeds the configured limit. */
  LINE_TOO_LONG: 'SIP_ERR_LINE_TOO_LONG',
  /** A value handed to a builder or mutation is not acceptable (for example contains CR or LF). */
  INVALID_VALUE: 'SIP_ERR_INVALID_VALUE',
} as const;
export type SipErrorCode = (typeof SipErrorCode)[keyof typeof SipErrorCode];

/** What a UAS (or the transport in front of it) should do with input that failed to parse. */
export type SipErrorAnswer = 400 | 505 | 'drop';

/** Codes that break framing: on a stream the connection cannot be resynchronised. */
const FRAMING_CODES: ReadonlySet<string> = new Set<string>([
  SipErrorCode.CONTENT_LENGTH,
  SipErrorCode.CONTENT_LENGTH_MISSING,
  SipErrorCode.BODY_TRUNCATED,
  SipErrorCode.MESSAGE_TOO_LARGE,
  SipErrorCode.TOO_MANY_HEADERS,
  SipErrorCode.LINE_TOO_LONG,
  SipErrorCode.HEADER_UNTERMINATED,
  SipErrorCode.EMPTY,
]);

export interface SipParseErrorOptions {
  /** Byte offset in the input where the problem was found (-1 when not tied to input bytes). */
  readonly offset?: number;
  /** Whether the input was recognised as a request or a response (decides the answer). */
  readonly messageKind?: 'request' | 'response' | undefined;
  readonly cause?: unknown;
}

/**
 * Thrown by every codec function on bad input, and by nothing else in the codec.
 * `answer` says what a UAS should do: 505 for a request with a foreign version, 400 for any
 * other malformed request whose start line was read, and 'drop' for responses, framing errors
 * and input that is not recognisably a request.
 */
export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  readonly code: SipErrorCode;
  readonly offset: number;
  readonly messageKind: 'request' | 'response' | undefined;

  constructor(code: SipErrorCode, message: string, options: SipParseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.offset = options.offset ?? -1;
    this.messageKind = options.messageKind;
  }

  /** True when the error makes a byte stream unusable (the connection should be closed). */
  get framing(): boolean {
    return FRAMING_CODES.has(this.code);
  }

  /** What a UAS should answer: 400, 505, or 'drop' (responses, framing errors, unknown input). */
  get answer(): SipErrorAnswer {
    if (this.messageKind !== 'request') return 'drop';
    if (this.code === SipErrorCode.VERSION) return 505;
    if (this.code === SipErrorCode.CONTENT_LENGTH || this.code === SipErrorCode.EMPTY) return 'drop';
    return 400;
  }
}

/** Tells whether a value is a SipParseError (also across module copies, by code shape). */
export function isSipParseError(value: unknown): value is SipParseError {
  return value instanceof SipParseError;
}
