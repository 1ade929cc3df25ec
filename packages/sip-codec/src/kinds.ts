/**
 * Request and response classes over MessageImpl.
 */
import { SipErrorCode } from './errors.js';
import type { MessageLayout } from './header-store.js';
import { MessageImpl } from './message.js';
import { fail } from './scan.js';
import type { SipRequest, SipResponse, SipUri } from './types.js';
import { utf8 } from './raw-headers.js';
import { parseUri } from './uri.js';

export class RequestImpl extends MessageImpl implements SipRequest {
  readonly kind = 'request' as const;
  readonly method: string;
  /** Decoded from the input bytes [uriStart, uriEnd) on first read. */
  private uriText: string | undefined;
  private readonly uriStart: number;
  private readonly uriEnd: number;
  private uriParsed: SipUri | undefined;

  constructor(layout: MessageLayout, method: string, uriStart: number, uriEnd: number) {
    super(layout);
    this.method = method;
    this.uriStart = uriStart;
    this.uriEnd = uriEnd;
  }

  protected override requestMethod(): string {
    return this.method;
  }

  get uri(): string {
    this.uriText ??= utf8(this.layout.buf, this.uriStart, this.uriEnd);
    return this.uriText;
  }

  get requestUri(): SipUri {
    this.uriParsed ??= parseUri(this.uri);
    return this.uriParsed;
  }

  /** Set by the parser after eager validation. */
  setParsedUri(uri: SipUri): void {
    this.uriParsed = uri;
  }

  setRequestUri(uri: string | SipUri): void {
    const text = typeof uri === 'string' ? uri : uri.raw;
    let parsed: SipUri;
    try {
      parsed = parseUri(text);
    } catch (err) {
      fail(SipErrorCode.INVALID_VALUE, `Request-URI rejected: ${(err as Error).message}`, err);
    }
    this.uriText = text;
    this.uriParsed = parsed;
    this.startLineDirty = true;
  }
}

export class ResponseImpl extends MessageImpl implements SipResponse {
  readonly kind = 'response' as const;
  readonly status: number;
  readonly reason: string;

  constructor(layout: MessageLayout, status: number, reason: string) {
    super(layout);
    this.status = status;
    this.reason = reason;
  }
}
