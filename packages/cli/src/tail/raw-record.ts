/**
 * A raw SIP message as the transport publishes it on `<p>.raw.in.<instance>` / `<p>.raw.out.<instance>`,
 * decoded from the NATS subject, the `Sipnats-*` headers and the payload. Decoding never throws:
 * missing or malformed metadata becomes `undefined`, and a payload that does not parse as SIP is kept
 * with the parse error, so the tools can show it as malformed.
 */
import { RAW_HEADERS, TRANSPORTS, decodeToken } from '@sipnats/contracts';
import type { SipTransport, Subjects } from '@sipnats/contracts';
import { decodePercent, isSipParseError, parseMessage } from '@sipnats/sip-codec';
import type { SipMessage } from '@sipnats/sip-codec';
import { parseSocketAddress } from './address.js';
import type { SocketAddress } from './address.js';

/** What the tools need of a NATS message (a `Msg` fits; tests pass plain objects). */
export interface RawInput {
  readonly subject: string;
  readonly data: Uint8Array;
  header(name: string): string | undefined;
}

export const DIRECTIONS = ['in', 'out'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** The SIP-level facts of a message that parsed. */
export interface SipSummary {
  readonly kind: 'request' | 'response';
  readonly method?: string;
  readonly uri?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly callId: string;
  readonly cseq: { readonly seq: number; readonly method: string };
  /** User part of the From / To URI, %-decoded; undefined when the URI has none. */
  readonly fromUser?: string;
  readonly toUser?: string;
  readonly fromTag?: string;
  readonly toTag?: string;
}

export type SipOutcome = { readonly ok: true; readonly sip: SipSummary } | { readonly ok: false; readonly code: string; readonly error: string };

export interface RawRecord {
  readonly subject: string;
  readonly direction: Direction;
  /** Decoded instance id (header, else the subject's last token); '?' when neither decodes. */
  readonly instance: string;
  readonly transport: SipTransport | undefined;
  readonly local: SocketAddress | undefined;
  readonly remote: SocketAddress | undefined;
  readonly flow: string | undefined;
  /** Milliseconds since the epoch: `Sipnats-Time`, or the time of receipt when absent or invalid. */
  readonly time: number;
  readonly bytes: Uint8Array;
  readonly outcome: SipOutcome;
}

/** Longest header value kept verbatim (flow ids); longer ones are cut. */
const MAX_META_TEXT = 256;
const MAX_ERROR_TEXT = 200;
/** 9999-12-31T23:59:59.999Z: later times are not plausible (and not 4-digit ISO years). */
const MAX_TIME_MS = 253_402_300_799_999;

function decodeInstance(token: string | undefined): string | undefined {
  if (token === undefined || token.length === 0) return undefined;
  try {
    return decodeToken(token);
  } catch {
    return undefined;
  }
}

function parseTime(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]{1,15}$/.test(text)) return undefined;
  const ms = Number(text);
  return ms <= MAX_TIME_MS ? ms : undefined;
}

function userOf(user: string | undefined): string | undefined {
  if (user === undefined || user.length === 0) return undefined;
  try {
    return decodePercent(user);
  } catch {
    return user;
  }
}

/** The summary of a parsed message; touching the accessors validates what the summary names. */
export function summarize(msg: SipMessage): SipSummary {
  const from = msg.from;
  const to = msg.to;
  const base = {
    callId: msg.callId,
    cseq: { seq: msg.cseq.seq, method: msg.cseq.method },
    ...(userOf(from.uri.user) !== undefined ? { fromUser: userOf(from.uri.user) as string } : {}),
    ...(userOf(to.uri.user) !== undefined ? { toUser: userOf(to.uri.user) as string } : {}),
    ...(from.tag !== undefined ? { fromTag: from.tag } : {}),
    ...(to.tag !== undefined ? { toTag: to.tag } : {}),
  };
  return msg.kind === 'request'
    ? { kind: 'request', method: msg.method, uri: msg.uri, ...base }
    : { kind: 'response', status: msg.status, reason: msg.reason, ...base };
}

/** Parses the payload; a parse failure (or any accessor failure) becomes `{ ok: false }`. */
export function parseOutcome(bytes: Uint8Array): SipOutcome {
  try {
    return { ok: true, sip: summarize(parseMessage(bytes)) };
  } catch (err) {
    const code = isSipParseError(err) ? err.code : 'ERROR';
    const text = err instanceof Error ? err.message : String(err);
    return { ok: false, code, error: text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text };
  }
}

/**
 * Decodes one raw message; undefined when the subject is not a raw subject of `subjects`
 * (nothing else makes it fail).
 */
export function decodeRaw(input: RawInput, s: Subjects, receivedAt: number): RawRecord | undefined {
  let direction: Direction;
  let subjectToken: string | undefined;
  const inHead = `${s.prefix}.raw.in.`;
  const outHead = `${s.prefix}.raw.out.`;
  if (input.subject.startsWith(inHead)) {
    direction = 'in';
    subjectToken = input.subject.slice(inHead.length);
  } else if (input.subject.startsWith(outHead)) {
    direction = 'out';
    subjectToken = input.subject.slice(outHead.length);
  } else {
    return undefined;
  }
  const transportText = input.header(RAW_HEADERS.transport)?.toLowerCase();
  const transport = (TRANSPORTS as readonly string[]).includes(transportText ?? '') ? (transportText as SipTransport) : undefined;
  const flow = input.header(RAW_HEADERS.flow);
  return {
    subject: input.subject,
    direction,
    instance: decodeInstance(input.header(RAW_HEADERS.instance)) ?? decodeInstance(subjectToken) ?? '?',
    transport,
    local: parseSocketAddress(input.header(RAW_HEADERS.local)),
    remote: parseSocketAddress(input.header(RAW_HEADERS.remote)),
    flow: flow === undefined || flow.length === 0 ? undefined : flow.slice(0, MAX_META_TEXT),
    time: parseTime(input.header(RAW_HEADERS.time)) ?? receivedAt,
    bytes: input.data,
    outcome: parseOutcome(input.data),
  };
}
