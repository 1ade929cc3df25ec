/**
 * Blind transfer in a confirmed dialog: REFER (RFC 3515) with its implicit `refer` subscription,
 * whose NOTIFYs carry the progress of the transferee's new call as `message/sipfrag` (RFC 3420);
 * subscription states per RFC 6665 §4.1.3 / §4.2.2.
 *
 * We transfer the peer (`transfer` command): REFER with Refer-To and Referred-By; a non-2xx ends
 * the attempt (`transferred` TRANSFER_REJECTED; 481/408 also end the call, §12.2.1.2). Each NOTIFY
 * of that subscription is answered 200 and reported as `transferred` with the sipfrag status: a
 * final 2xx ends our call with BYE (cause BLIND_TRANSFER: the transferee talks to the target now),
 * a final failure, or `Subscription-State: terminated` without a final status, keeps the call up
 * (TRANSFER_FAILED). `transfer-timeout`, re-armed by every NOTIFY, bounds the wait (TRANSFER_TIMEOUT).
 *
 * The peer transfers us (its REFER): 202, a first NOTIFY `100 Trying` at once (§2.4.4), and a
 * `transferred` event (TRANSFER_REQUESTED, with the Refer-To) for the controller. What the
 * controller does decides the outcome: its `hangup` NOTIFYs `200 OK` (terminated) and BYEs once that
 * NOTIFY is answered; with no hangup by `refer-timeout` the peer is NOTIFYed `408` and the call
 * stays. The wiring may have the core decline every REFER (603), e.g. for a bridged call.
 *
 * One transfer each way at a time: a second `transfer` gets CONFLICT, a second REFER from the peer
 * 491. No header value from the wire goes into our messages except through the URI parser.
 */
import { parseNameAddr, parseUri } from '@sipnats/sip-codec';
import { reasonPhrase } from '../sip-view.js';
import type { Header, RequestView, ResponseView } from '../sip-view.js';
import { inDialogRequest, t1 } from './builders.js';
import type { Out } from './builders.js';
import type { DialogConfig, DialogRecord, OutgoingRefer } from './types.js';

/** Content type of the NOTIFY bodies we send (RFC 3515 §2.4.5). */
export const SIPFRAG = 'message/sipfrag;version=2.0';
/** Default of DialogConfig.transferTimeoutMs. */
export const DEFAULT_TRANSFER_TIMEOUT_MS = 120_000;
/** Most characters of a NOTIFY body read for its status line (the rest is never looked at). */
const SIPFRAG_READ = 512;
/** Refer-To schemes a `transfer` command may name. */
const TARGET_SCHEMES = new Set(['sip', 'sips', 'tel']);

export function transferTimeout(config: DialogConfig): number {
  return config.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS;
}

/** The status line of a sipfrag body. */
export interface Sipfrag {
  readonly status: number;
  readonly reason: string;
}

/**
 * The status line of a `message/sipfrag` body (RFC 3420: a start line, optionally headers), or
 * undefined when the type is another or the first line is not a SIP/2.0 status line.
 */
export function parseSipfrag(contentType: string | undefined, body: string): Sipfrag | undefined {
  if (mediaType(contentType) !== 'message/sipfrag') return undefined;
  const text = body.slice(0, SIPFRAG_READ);
  const cr = text.indexOf('\n');
  const line = (cr < 0 ? text : text.slice(0, cr)).trim();
  const m = /^SIP\/2\.0 ([1-6][0-9][0-9])(?: ([^\r\n]*))?$/i.exec(line);
  if (m === null) return undefined;
  return { status: Number(m[1]), reason: (m[2] ?? '').trim() };
}

/** An Event header (RFC 6665 §8.2.1): package lower-cased and its `id` parameter. */
export function parseEventHeader(value: string | undefined): { readonly pkg: string; readonly id: string | undefined } | undefined {
  if (value === undefined) return undefined;
  const [pkg, ...params] = value.split(';');
  const name = pkg?.trim().toLowerCase() ?? '';
  if (name === '') return undefined;
  let id: string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'id') id = p.slice(eq + 1).trim();
  }
  return { pkg: name, id };
}

/** A Subscription-State header (RFC 6665 §8.2.3): state lower-cased and its `reason`. */
export function parseSubscriptionState(value: string | undefined): { readonly state: string; readonly reason: string | undefined } | undefined {
  if (value === undefined) return undefined;
  const [state, ...params] = value.split(';');
  const name = state?.trim().toLowerCase() ?? '';
  if (name === '') return undefined;
  let reason: string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'reason') reason = p.slice(eq + 1).trim().slice(0, 64);
  }
  return { state: name, reason };
}

/** The Refer-To URI of a `transfer` command (a SIP, SIPS or tel URI), or why it is not one. */
export function referTarget(target: string): { readonly ok: true; readonly uri: string } | { readonly ok: false; readonly error: string } {
  const text = target.trim();
  let scheme: string;
  try {
    scheme = parseUri(text).scheme;
  } catch (err) {
    return { ok: false, error: `target is not a URI: ${(err as Error).message}` };
  }
  if (!TARGET_SCHEMES.has(scheme)) return { ok: false, error: `target scheme ${scheme}: is not sip, sips or tel` };
  return { ok: true, uri: text };
}

/** The URI of a name-addr value (From/To/Refer-To), undefined when it does not parse. */
function uriOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseNameAddr(value).uri.raw;
  } catch {
    return undefined;
  }
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

export type ReferOutcome = { readonly ok: true } | { readonly ok: false; readonly code: 'INVALID' | 'BAD_STATE' | 'CONFLICT'; readonly error: string };

/** `transfer`: REFER in the confirmed dialog (RFC 3515 §2.4.1), `transfer-timeout` armed. */
export function sendRefer(config: DialogConfig, out: Out, target: string, extra: readonly Header[], now: number): ReferOutcome {
  const record = out.rec;
  if (record.phase === 'ended') return { ok: false, code: 'BAD_STATE', error: 'the call has ended' };
  if (record.phase !== 'confirmed') return { ok: false, code: 'BAD_STATE', error: `cannot transfer a call that is ${record.phase}` };
  if (record.referOut !== undefined) return { ok: false, code: 'CONFLICT', error: `a transfer to ${record.referOut.target} is in progress` };
  const checked = referTarget(target);
  if (!checked.ok) return { ok: false, code: 'INVALID', error: checked.error };
  const cseq = record.localCseq + 1;
  const us = uriOf(record.localUri);
  const headers: Header[] = [['Refer-To', `<${checked.uri}>`], ...(us === undefined ? [] : [['Referred-By', `<${us}>`] as Header]), ...extra];
  out.set({ localCseq: cseq, referOut: { cseq, target: checked.uri, accepted: false, status: undefined } }, now);
  out.requests.push(inDialogRequest(out.rec, 'REFER', cseq, { headers }));
  out.arm('transfer-timeout', now + transferTimeout(config));
  return { ok: true };
}

/** The final response to our REFER; false when it is not for the REFER in progress. */
export function onReferResponse(config: DialogConfig, out: Out, response: ResponseView, now: number): boolean {
  const refer = out.rec.referOut;
  if (refer === undefined || response.cseq.seq !== refer.cseq) return false;
  const status = response.status;
  if (status < 300) {
    out.set({ referOut: { ...refer, accepted: true } }, now);
    out.arm('transfer-timeout', now + transferTimeout(config));
    out.events.push({ event: 'transferred', status, reason: response.reason, referTo: refer.target });
    return true;
  }
  finishRefer(out, now);
  out.events.push({ event: 'transferred', status, reason: response.reason, cause: 'TRANSFER_REJECTED', referTo: refer.target });
  return true;
}

function finishRefer(out: Out, now: number): void {
  out.set({ referOut: undefined }, now);
  out.cancel('transfer-timeout');
}

type Reply = (status: number, options?: { reason?: string; headers?: readonly Header[] }) => void;

/**
 * A NOTIFY from the peer (RFC 6665 §4.1.3): 489 for another event package, 481 when it is not for
 * the REFER in progress, else 200 and the sipfrag's progress. `bye` sends our BYE after a final 2xx.
 */
export function onNotify(
  config: DialogConfig,
  out: Out,
  request: Pick<RequestView, 'contentType' | 'getHeader'>,
  body: string,
  reply: Reply,
  bye: (cause: string) => void,
  now: number,
): void {
  const event = parseEventHeader(request.getHeader('Event'));
  if (event?.pkg !== 'refer') {
    reply(489, { headers: [['Allow-Events', 'refer']] });
    return;
  }
  const refer = out.rec.referOut;
  if (refer === undefined || (event.id !== undefined && event.id !== String(refer.cseq))) {
    reply(481, { reason: 'Subscription Does Not Exist' });
    return;
  }
  reply(200);
  const frag = parseSipfrag(request.contentType, body);
  const state = parseSubscriptionState(request.getHeader('Subscription-State'));
  const base = { event: 'transferred', referTo: refer.target } as const;
  if (frag !== undefined && frag.status >= 200) {
    finishRefer(out, now);
    if (frag.status < 300) {
      out.events.push({ ...base, status: frag.status, reason: frag.reason, cause: 'TRANSFER_COMPLETED' });
      bye('BLIND_TRANSFER');
    } else {
      out.events.push({ ...base, status: frag.status, reason: frag.reason, cause: 'TRANSFER_FAILED' });
    }
    return;
  }
  if (frag !== undefined) out.events.push({ ...base, status: frag.status, reason: frag.reason });
  if (state?.state === 'terminated') {
    finishRefer(out, now);
    const why = `subscription terminated${state.reason === undefined ? '' : ` (${state.reason})`} without a final status`;
    out.events.push({ ...base, cause: 'TRANSFER_FAILED', reason: why });
    return;
  }
  const next: OutgoingRefer = { ...refer, accepted: true, status: frag?.status ?? refer.status };
  out.set({ referOut: next }, now);
  out.arm('transfer-timeout', now + transferTimeout(config));
}

/**
 * The peer's REFER (RFC 3515 §2.4.2–2.4.4): 603 when declined by the wiring or the call is not
 * confirmed, 491 while its previous one is open, 400 without a Refer-To we can parse; else 202, a
 * NOTIFY `100 Trying`, and `transferred` TRANSFER_REQUESTED.
 */
export function onRefer(
  config: DialogConfig,
  out: Out,
  request: Pick<RequestView, 'cseq' | 'getHeader'>,
  reply: Reply,
  decline: boolean,
  now: number,
): void {
  const record = out.rec;
  if (decline || record.phase !== 'confirmed') {
    reply(603, { reason: decline ? 'Declined' : 'Call Not Established' });
    return;
  }
  if (record.referIn !== undefined) {
    reply(491);
    return;
  }
  const target = uriOf(request.getHeader('Refer-To'));
  if (target === undefined) {
    reply(400, { reason: 'Bad Refer-To' });
    return;
  }
  reply(202);
  out.set({ referIn: { cseq: request.cseq.seq, target } }, now);
  sendReferNotify(config, out, 100, false, now);
  out.arm('refer-timeout', now + transferTimeout(config));
  const by = uriOf(request.getHeader('Referred-By'));
  out.events.push({ event: 'transferred', cause: 'TRANSFER_REQUESTED', referTo: target, ...(by === undefined ? {} : { referredBy: by }) });
}

/** A NOTIFY about the peer's REFER with `SIP/2.0 <status>` (RFC 3515 §2.4.4–2.4.5); returns its CSeq. */
export function sendReferNotify(config: DialogConfig, out: Out, status: number, terminated: boolean, now: number): number {
  const record = out.rec;
  const refer = record.referIn;
  if (refer === undefined) throw new TypeError('no REFER to notify about');
  const cseq = record.localCseq + 1;
  const expires = Math.ceil(transferTimeout(config) / 1000);
  out.set({ localCseq: cseq }, now);
  out.requests.push(
    inDialogRequest(out.rec, 'NOTIFY', cseq, {
      headers: [
        ['Event', `refer;id=${refer.cseq}`],
        ['Subscription-State', terminated ? 'terminated;reason=noresource' : `active;expires=${expires}`],
      ],
      body: { contentType: SIPFRAG, content: `SIP/2.0 ${status} ${reasonPhrase(status)}\r\n` },
    }),
  );
  return cseq;
}

/**
 * `hangup` while the peer's REFER is open: NOTIFY `200 OK` (terminated) now, BYE once that NOTIFY
 * is answered (or after 64·T1: `refer-timeout`). False when there is no REFER to close.
 */
export function hangupAfterNotify(config: DialogConfig, out: Out, cause: string, reason: string | undefined, now: number): boolean {
  const refer = out.rec.referIn;
  if (refer === undefined || refer.hangupAfterNotify !== undefined) return false;
  const cseq = sendReferNotify(config, out, 200, true, now);
  out.set({ referIn: { ...refer, hangupAfterNotify: { cseq, cause, reason } } }, now);
  out.arm('refer-timeout', now + 64 * t1(config));
  return true;
}

/**
 * The final response to a NOTIFY we sent: the BYE a hangup waits for goes out; a non-2xx ends the
 * subscription (RFC 6665 §4.1.2.4: the peer has no such subscription), never the call.
 */
export function onNotifyResponse(out: Out, response: ResponseView, bye: (cause: string, reason: string | undefined) => void, now: number): void {
  const refer = out.rec.referIn;
  if (refer === undefined) return;
  const waiting = refer.hangupAfterNotify;
  if (waiting !== undefined && response.cseq.seq === waiting.cseq) {
    out.set({ referIn: undefined }, now);
    out.cancel('refer-timeout');
    bye(waiting.cause, waiting.reason);
    return;
  }
  if (response.status >= 300) {
    out.set({ referIn: undefined }, now);
    out.cancel('refer-timeout');
  }
}

/** `transfer-timeout`: no final NOTIFY in time; the call stays. */
export function onTransferTimeout(out: Out, now: number): void {
  const refer = out.rec.referOut;
  if (refer === undefined) return;
  finishRefer(out, now);
  out.events.push({ event: 'transferred', cause: 'TRANSFER_TIMEOUT', referTo: refer.target, reason: 'no final NOTIFY in time' });
}

/** `refer-timeout`: a hangup still waiting for its NOTIFY's answer BYEs; else the peer hears 408. */
export function onReferTimeout(config: DialogConfig, out: Out, bye: (cause: string, reason: string | undefined) => void, now: number): void {
  const record: DialogRecord = out.rec;
  const refer = record.referIn;
  if (refer === undefined || record.phase !== 'confirmed') return;
  const waiting = refer.hangupAfterNotify;
  if (waiting !== undefined) {
    out.set({ referIn: undefined }, now);
    bye(waiting.cause, waiting.reason);
    return;
  }
  sendReferNotify(config, out, 408, true, now);
  out.set({ referIn: undefined }, now);
  out.events.push({ event: 'transferred', cause: 'TRANSFER_TIMEOUT', referTo: refer.target, reason: 'no controller outcome in time' });
}
