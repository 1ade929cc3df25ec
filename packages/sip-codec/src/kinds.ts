/**
 * Request and response classes over MessageImpl.
 */
import { SipErrorCode } from './errors.js';
import type { MessageLayout } from './header-store.js';
import { MessageImpl } from './message.js';
import { fail } from './scan.js';
import type { SipRequest, SipResponse, SipUri } from './types.js';
import { parseUri } from './uri.js';

export class RequestImpl extends MessageImpl implements SipRequest {
  readonly kind = 'request' as const;
  readonly method: string;
  private uriText: string;
  private uriParsed: SipUri | undefined;

  constructor(layout: MessageLayout, method: string, uri: string) {
    super(layout);
    this.method = method;
    this.uriText = uri;
  }

  protected override requestMethod(): string {
    return this.method;
  }

  get uri(): string {
    return this.uriText;
  }

  get requestUri(): SipUri {
    this.uriParsed ??= parseUri(this.uriText);
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
