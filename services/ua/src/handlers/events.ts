/**
 * Call and registration events: the core's data plus the envelope fields (v, call ids, from/to,
 * time, instance), validated against the contracts before publishing.
 */
import { CallEvent, encodeJson, LIMITS, RegEvent, type FlowRef, type NameAddrInfo } from '@sipnats/contracts';
import { parseNameAddr } from '@sipnats/sip-codec';
import type { DialogRecord } from '../dialog/types.js';
import type { UacEvent } from '../uac/types.js';
import type { RegistrationEvent } from '../registrar/registrar.js';
import type { UaContext } from './context.js';

const X_HEADER = /^X-[A-Za-z0-9!#$%&'*+.^_`|~-]{1,62}$/i;

/** A From/To value as NameAddrInfo (falls back to the raw text as URI when it does not parse). */
export function nameAddrInfo(value: string): NameAddrInfo {
  try {
    const na = parseNameAddr(value);
    return {
      uri: na.uri.raw.slice(0, LIMITS.uri),
      ...(na.displayName === undefined || na.displayName === '' ? {} : { display: na.displayName.slice(0, LIMITS.text) }),
      ...(na.tag === undefined ? {} : { tag: na.tag.slice(0, LIMITS.token) }),
    };
  } catch {
    return { uri: value.slice(0, LIMITS.uri) || 'sip:invalid' };
  }
}

/** Custom `X-` headers of a message (at most LIMITS.headers, values cut to the limit). */
export function xHeaders(headers: readonly (readonly [string, string])[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [name, value] of headers) {
    if (!X_HEADER.test(name) || name in out) continue;
    if (n >= LIMITS.headers) break;
    out[name] = value.replace(/[\r\n\0]/g, ' ').slice(0, LIMITS.headerValue);
    n++;
  }
  return n === 0 ? undefined : out;
}

/** What an event needs of a call: a dialog record, or the dialog-to-be of an outbound call. */
export type EventDialog = Pick<DialogRecord, 'role' | 'call' | 'callId' | 'localTag' | 'remoteTag' | 'localUri' | 'remoteUri'>;

export function publishCallEvent(ctx: UaContext, record: EventDialog, ev: UacEvent, headers?: Record<string, string>): void {
  const inbound = record.role === 'uas';
  const event: CallEvent = {
    v: 1,
    event: ev.event,
    call: record.call,
    dialog: `${record.callId};${record.localTag};${record.remoteTag}`.slice(0, LIMITS.id),
    sipCallId: record.callId.slice(0, LIMITS.id),
    direction: inbound ? 'inbound' : 'outbound',
    from: nameAddrInfo(inbound ? record.remoteUri : record.localUri),
    to: nameAddrInfo(inbound ? record.localUri : record.remoteUri),
    at: ctx.clock(),
    instance: ctx.instance,
    ...(ev.sdp === undefined ? {} : { sdp: ev.sdp.slice(0, LIMITS.sdp) }),
    ...(ev.status === undefined ? {} : { status: ev.status }),
    ...(ev.reason === undefined ? {} : { reason: ev.reason.slice(0, LIMITS.text) }),
    ...(ev.cause === undefined ? {} : { cause: ev.cause.slice(0, LIMITS.token) }),
    ...(ev.dtmf === undefined ? {} : { dtmf: ev.dtmf }),
    ...(ev.contentType === undefined ? {} : { contentType: ev.contentType.slice(0, LIMITS.text) }),
    ...(ev.body === undefined ? {} : { body: ev.body.slice(0, LIMITS.body) }),
    ...(ev.referTo === undefined || ev.referTo === '' ? {} : { referTo: ev.referTo.slice(0, LIMITS.uri) }),
    ...(ev.referredBy === undefined || ev.referredBy === '' ? {} : { referredBy: ev.referredBy.slice(0, LIMITS.uri) }),
    ...(headers === undefined ? {} : { headers }),
  };
  try {
    ctx.messaging.publish(ctx.subjects.evtCall(ev.event), encodeJson(CallEvent, event));
    ctx.metrics.events.inc({ kind: 'call', event: ev.event });
  } catch (err) {
    ctx.log.error({ err, call: record.call, event: ev.event }, 'call event not published');
  }
}

export function publishRegEvent(ctx: UaContext, ev: RegistrationEvent | (Omit<RegistrationEvent, 'event'> & { event: 'failed'; reason: string })): void {
  const event: RegEvent = {
    v: 1,
    event: ev.event,
    aor: ev.aor.slice(0, LIMITS.uri) || 'sip:unknown',
    contact: ev.contact.slice(0, LIMITS.uri),
    expires: ev.expires,
    at: ctx.clock(),
    instance: ctx.instance,
    ...(ev.flow === undefined ? {} : { flow: ev.flow as FlowRef }),
    ...(ev.userAgent === undefined ? {} : { userAgent: ev.userAgent.slice(0, LIMITS.text) }),
    ...('reason' in ev && typeof ev.reason === 'string' ? { reason: ev.reason.slice(0, LIMITS.text) } : {}),
  };
  try {
    ctx.messaging.publish(ctx.subjects.evtReg(ev.event), encodeJson(RegEvent, event));
    ctx.metrics.events.inc({ kind: 'reg', event: ev.event });
  } catch (err) {
    ctx.log.error({ err, aor: ev.aor, event: ev.event }, 'registration event not published');
  }
}
