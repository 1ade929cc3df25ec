/**
 * A new inbound INVITE becomes a dialog record in phase `offered` (RFC 3261 §12.1.1, §13.3), or is
 * refused at once: 400 without Contact, 420 for unsupported Require, 422 for a too small
 * Session-Expires (RFC 4028 §9).
 */
import { snapshotRequest } from '../response.js';
import { bodyText } from '../sip-view.js';
import type { RequestView, ResponseSpec } from '../sip-view.js';
import { respond } from '../response.js';
import { Out } from './builders.js';
import { negotiateSessionTimer } from './session-timer.js';
import { DIALOG_VERSION, SUPPORTED } from './types.js';
import type { DialogConfig, DialogRecord, Transition } from './types.js';

export interface NewInvite {
  /** sipnats call id chosen by the service. */
  readonly call: string;
  readonly request: RequestView;
  /** Opaque id of the INVITE server transaction (how the service routes responses to it). */
  readonly txn: string;
  /** Our To tag and Contact URI (the transport's advertised address). */
  readonly localTag: string;
  readonly localContact: string;
  readonly now: number;
}

export type InviteAcceptance =
  | { readonly kind: 'accepted'; readonly transition: Transition }
  | { readonly kind: 'rejected'; readonly response: ResponseSpec; readonly reason: string };

export function hasSdp(contentType: string | undefined, body: Uint8Array): boolean {
  return body.byteLength > 0 && contentType?.split(';')[0]?.trim().toLowerCase() === 'application/sdp';
}

export function acceptInvite(config: DialogConfig, input: NewInvite): InviteAcceptance {
  const { request, now } = input;
  const reject = (status: number, reason: string, headers: (readonly [string, string])[] = []): InviteAcceptance => ({
    kind: 'rejected',
    reason,
    response: respond(request, status, { toTag: input.localTag, headers }),
  });
  const contact = request.contacts[0];
  if (contact === undefined || request.contactWildcard) return reject(400, 'missing-contact');
  if (request.from.tag === undefined) return reject(400, 'missing-from-tag');
  const unsupported = request.require.filter((t) => !(SUPPORTED as readonly string[]).includes(t.toLowerCase()));
  if (unsupported.length > 0) return reject(420, 'unsupported-extension', [['Unsupported', unsupported.join(', ')]]);
  const negotiation = negotiateSessionTimer(request, config);
  if (negotiation.kind === 'reject') return reject(422, 'session-interval-too-small', [['Min-SE', String(negotiation.minSE)]]);

  const tags = (list: readonly string[]): boolean => list.some((t) => t.toLowerCase() === '100rel');
  const secure = request.requestUri.scheme.toLowerCase() === 'sips' && request.via[0]?.transport.toUpperCase() === 'TLS';
  const sdp = hasSdp(request.contentType, request.body) ? bodyText(request.body) : undefined;
  const snapshot = snapshotRequest(request);
  const record: DialogRecord = {
    v: DIALOG_VERSION,
    call: input.call,
    role: 'uas',
    state: 'early',
    phase: 'offered',
    callId: request.callId,
    localTag: input.localTag,
    remoteTag: request.from.tag,
    localUri: `${request.to.raw};tag=${input.localTag}`,
    remoteUri: request.from.raw,
    localTarget: input.localContact,
    remoteTarget: contact.uri.raw,
    routeSet: request.recordRoute.map((r) => r.raw),
    localCseq: 0,
    remoteCseq: request.cseq.seq,
    secure,
    invite: { txn: input.txn, cseq: request.cseq.seq, request: snapshot, recordRoute: request.recordRoute.map((r) => r.raw), finalStatus: undefined },
    reliable: {
      peerSupports: tags(request.supported) || tags(request.require),
      peerRequires: tags(request.require),
      nextRseq: 1,
      pending: undefined,
      queued: [],
      deferredAnswer: undefined,
    },
    localSdp: undefined,
    remoteSdp: sdp,
    pending2xx: undefined,
    hangupAfterAck: undefined,
    incoming: undefined,
    outgoing: undefined,
    timer: negotiation.kind === 'use' ? negotiation.timer : undefined,
    ended: undefined,
    createdAt: now,
    updatedAt: now,
  };
  const out = new Out(record);
  out.changed = true;
  out.events.push({ event: 'offer', ...(sdp === undefined ? {} : { sdp }) });
  out.arm('no-answer', now + config.answerTimeoutMs);
  return { kind: 'accepted', transition: out.done() };
}
