/**
 * A new outbound call (an originate or bridge command): the initial INVITE (RFC 3261 §8.1.1,
 * §13.2.1) and the session record in phase `calling`, with the ring timeout armed.
 */
import { outboundCallId } from './call-id.js';
import { SIP_HEADER_CALL } from '@sipnats/contracts';
import { parseNameAddr, parseUri } from '@sipnats/sip-codec';
import { DEFAULT_ALLOW, SUPPORTED } from '../dialog/types.js';
import type { RandomSource } from '../ports.js';
import { randomToken } from '../ports.js';
import type { Header } from '../sip-view.js';
import { inviteRequest, UacOut } from './builders.js';
import { UacError, UacErrorCode } from './errors.js';
import { DEFAULT_MAX_FORWARDS, UAC_VERSION } from './types.js';
import type { UacConfig, UacCredentials, UacRecord, UacTarget, UacTransition } from './types.js';

export interface OutboundCall {
  /** sipnats call id (chosen by the controller). */
  readonly call: string;
  /** From and To: a URI or a name-addr (`"Alice" <sip:alice@example.com>`), no tag. */
  readonly from: string;
  readonly to: string;
  /** Request-URI (the To URI unless the command names another target). */
  readonly requestUri: string;
  /** Next hops resolved per RFC 3263, tried in order (failover on timeout or 503). */
  readonly targets?: readonly UacTarget[];
  /** Pre-loaded Route set (an outbound proxy), `<sip:proxy;lr>` values in order. */
  readonly route?: readonly string[];
  /** SDP offer; absent: a late offer (the 2xx carries the offer, the ACK the answer: late-offer.ts). */
  readonly sdp?: string;
  /** Extra headers: `X-` names only, values without CR/LF (an `X-Sipnats-Call` among them is ignored). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The value of `X-Sipnats-Call` (default `call`): a bridge leg carries the id of the inbound call
   * it is bridged to when the controller asks for it, so a sipnats-aware callee (mod_sipnats) ties
   * the leg to the call it was offered.
   */
  readonly callHeader?: string;
  readonly credentials?: UacCredentials;
  /** Ring timeout, ms: CANCEL when no final response by then. */
  readonly timeoutMs?: number;
  /** Max-Forwards of the INVITE, 1..255 (default: the config's): a bridge leg's is the inbound INVITE's minus one. */
  readonly maxForwards?: number;
  /** Our Contact URI (the transport's advertised address). */
  readonly localContact: string;
  readonly now: number;
  readonly random: RandomSource;
}

const X_HEADER = /^X-[A-Za-z0-9-]{1,62}$/i;
const UNSAFE = /[\r\n\0]/;

function invalid(message: string, cause?: unknown): UacError {
  return new UacError(UacErrorCode.INVALID, message, cause === undefined ? undefined : { cause });
}

/** A From/To value from a URI or a name-addr; refused when it has a tag or does not parse. */
function nameAddr(value: string, what: string): string {
  const trimmed = value.trim();
  if (trimmed === '' || UNSAFE.test(trimmed)) throw invalid(`${what} is empty or holds a line break`);
  const text = trimmed.includes('<') ? trimmed : `<${trimmed}>`;
  let parsed;
  try {
    parsed = parseNameAddr(text);
  } catch (err) {
    throw invalid(`${what} is not a URI or name-addr: ${trimmed.slice(0, 80)}`, err);
  }
  if (parsed.tag !== undefined) throw invalid(`${what} must not carry a tag`);
  return text;
}

function uri(value: string, what: string): string {
  if (value === '' || /[\s<>]/.test(value)) throw invalid(`${what} is empty or holds spaces or brackets`);
  try {
    const u = parseUri(value);
    if (u.scheme !== 'sip' && u.scheme !== 'sips') throw invalid(`${what} must be a sip or sips URI`);
  } catch (err) {
    if (err instanceof UacError) throw err;
    throw invalid(`${what} is not a URI: ${value.slice(0, 80)}`, err);
  }
  return value;
}

function extraHeaders(map: Readonly<Record<string, string>> | undefined): Header[] {
  const out: Header[] = [];
  for (const [name, value] of Object.entries(map ?? {})) {
    if (!X_HEADER.test(name)) throw invalid(`header ${name.slice(0, 64)} is not an X- header`);
    if (name.toLowerCase() === SIP_HEADER_CALL.toLowerCase()) continue;
    if (UNSAFE.test(value)) throw invalid(`header ${name} holds a line break`);
    out.push([name, value]);
  }
  return out;
}

/** Builds the first INVITE and the session. Throws UacError (UA_UAC_INVALID) for unusable input. */
export function startOutboundCall(config: UacConfig, input: OutboundCall): UacTransition {
  const { now, random } = input;
  const from = nameAddr(input.from, 'from');
  const to = nameAddr(input.to, 'to');
  const requestUri = uri(input.requestUri, 'requestUri');
  uri(input.localContact, 'localContact');
  for (const r of input.route ?? []) if (UNSAFE.test(r) || !r.trim().startsWith('<')) throw invalid('route entries must be <uri> values');
  if (input.sdp !== undefined && (typeof input.sdp !== 'string' || input.sdp === '' || input.sdp.includes('\0'))) throw invalid('the SDP offer is empty or holds a NUL');
  const timeoutMs = input.timeoutMs ?? config.ringTimeoutMs ?? 60_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw invalid(`timeoutMs ${timeoutMs} is not a positive integer`);
  const maxForwards = input.maxForwards ?? config.maxForwards ?? DEFAULT_MAX_FORWARDS;
  if (!Number.isInteger(maxForwards) || maxForwards < 1 || maxForwards > 255) throw invalid(`maxForwards ${maxForwards} is not in 1..255`);
  const targets = input.targets ?? [];
  for (const t of targets) {
    if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535 || t.host === '') throw invalid(`bad target ${t.host}:${t.port}`);
  }

  const localTag = randomToken(random, 8);
  const callId = outboundCallId(input.call, random);
  const localUri = `${from};tag=${localTag}`;
  const headers: Header[] = [
    ['From', localUri],
    ['To', to],
    ['Call-ID', callId],
    ['Max-Forwards', String(maxForwards)],
    ...(input.route ?? []).map((r): Header => ['Route', r.trim()]),
    ['Contact', `<${input.localContact}>`],
    ['Allow', (config.allow ?? DEFAULT_ALLOW).join(', ')],
    // A late offer does not offer 100rel: an offer in a reliable 1xx would need its answer in the PRACK.
    ['Supported', SUPPORTED.filter((t) => input.sdp !== undefined || t !== '100rel').join(', ')],
  ];
  if (config.sessionExpires > 0) headers.push(['Session-Expires', String(config.sessionExpires)], ['Min-SE', String(config.minSE)]);
  const callHeader = input.callHeader ?? input.call;
  if (callHeader === '' || UNSAFE.test(callHeader)) throw invalid(`${SIP_HEADER_CALL} is empty or holds a line break`);
  headers.push([SIP_HEADER_CALL, callHeader], ...extraHeaders(input.headers));

  const record: UacRecord = {
    v: UAC_VERSION,
    call: input.call,
    phase: 'calling',
    callId,
    localTag,
    localUri,
    remoteUri: to,
    requestUri,
    localContact: input.localContact,
    invite: { cseq: 1, attempt: 1, headers, sdp: input.sdp },
    credentials: input.credentials,
    auth: [],
    targets,
    targetIndex: 0,
    early: [],
    answered: undefined,
    forks: [],
    cancel: undefined,
    dialog: undefined,
    finalStatus: undefined,
    ended: undefined,
    createdAt: now,
    updatedAt: now,
  };
  const out = new UacOut(record);
  out.changed = true;
  out.requests.push(inviteRequest(record));
  out.arm('ring-timeout', now + timeoutMs);
  return out.done();
}
