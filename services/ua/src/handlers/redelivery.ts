/**
 * Requests delivered more than once. The transport publishes a request again while no ua answered
 * it (core NATS is at most once; proto/README.md), and a KV write whose answer was lost may have
 * landed although the request was answered 503. So the ua must recognise a repeated request and
 * give the answer it gave (or would give) the first time, never a second call or a 482:
 *
 * - INVITE whose dialog index is taken: the same request when the call's INVITE has the same
 *   server transaction, or the same top Via (branch) and CSeq (the peer's retransmission taken by
 *   another transport instance). Its final response is sent again; while the call waits for its
 *   controller a 100 Trying goes to the transport, which stops publishing it again (the events
 *   went out with the first delivery). An index without a
 *   call (the first delivery died between the two writes) is adopted: the call is created under
 *   the indexed id, once (KV create). Only the same CSeq on another branch is a merged request
 *   (§8.2.2.2); another CSeq is a new INVITE (say a retry after a rejection or a CANCEL): it
 *   takes the index of an ended call, which is removed at once instead of after its grace period,
 *   and gets 500 with Retry-After while that call is up (as §14.2 does in a dialog).
 * - BYE with the CSeq of the BYE that ended the dialog: 200 again (RFC 3261 §15.1.2 answers a BYE
 *   for an ended dialog 481, but this is the same BYE, whose 200 was lost).
 */
import type { SipRequest } from '@sipnats/sip-codec';
import { Out, requestResponse } from '../dialog/builders.js';
import type { DialogRecord, Transition } from '../dialog/types.js';
import { snapshotRequest } from '../response.js';
import { removalTicket, type CallEntry } from '../store/call-store.js';
import { responseWithoutOwnContact } from './contact.js';
import type { RequestOrigin, UaContext } from './context.js';
import { sendResponse } from './send.js';

export type RepeatedInvite =
  /** The index holds the id this delivery tried to claim: an earlier attempt of this write landed. */
  | { readonly kind: 'ours' }
  /** The index holds a call that was never stored: create it under that id. */
  | { readonly kind: 'adopt'; readonly call: string }
  /** A repeated delivery: answered again or ignored; nothing more to do. */
  | { readonly kind: 'repeated' }
  /** Same Call-ID, From tag and CSeq on another branch (§8.2.2.2 merged request): 482. */
  | { readonly kind: 'merged' }
  /** A new INVITE (another CSeq) while the call of its Call-ID and From tag is up: 500 with Retry-After. */
  | { readonly kind: 'busy' };

/** Whether `req` is the INVITE that created `entry` (through any transport instance). */
export function isSameInvite(entry: CallEntry, req: SipRequest, origin: RequestOrigin): boolean {
  const inv = entry.dialog.invite;
  if (origin.txn !== undefined && inv.txn === origin.txn && entry.inviteInstance === origin.instance) return true;
  const topVia = req.via[0]?.raw;
  return inv.cseq === req.cseq.seq && topVia !== undefined && inv.request.vias[0] === topVia;
}

/** The final response the call's INVITE got, for sending it again (undefined: none yet, or ACKed). */
export function finalInviteResponse(record: DialogRecord): { spec: ReturnType<typeof requestResponse>; retransmit2xx: boolean } | undefined {
  const status = record.invite.finalStatus;
  if (status === undefined) return undefined;
  if (status >= 200 && status < 300) {
    const pending = record.pending2xx;
    return pending === undefined ? undefined : { spec: pending.response, retransmit2xx: true };
  }
  return { spec: requestResponse(record.invite.request, record, status), retransmit2xx: false };
}

/**
 * An INVITE whose dialog index (Call-ID, From tag) is taken already; `call` is the id this delivery
 * tried to claim. `retake`: whether an ended call's index may be taken (once per delivery).
 */
export async function repeatedInvite(ctx: UaContext, req: SipRequest, origin: RequestOrigin, call: string, retake = true): Promise<RepeatedInvite> {
  const indexed = await ctx.calls.findByDialog(req.callId, req.from.tag ?? '');
  if (indexed === undefined) return { kind: 'merged' };
  if (indexed === call) return { kind: 'ours' };
  const stored = await ctx.calls.get(indexed);
  if (stored === undefined) return { kind: 'adopt', call: indexed };
  if (!isSameInvite(stored.value, req, origin)) {
    if (stored.value.dialog.invite.cseq === req.cseq.seq) return { kind: 'merged' };
    const ended = removalTicket(stored);
    if (ended === undefined || !retake) return { kind: 'busy' };
    // The ended call goes now (a CAS on its entry), and this INVITE claims the index it held;
    // another delivery that got there first is looked at again.
    if ((await ctx.calls.remove(ended)) && (await ctx.calls.claimIndex(req.callId, req.from.tag ?? '', call))) return { kind: 'ours' };
    return repeatedInvite(ctx, req, origin, call, false);
  }
  const record = stored.value.dialog;
  const final = finalInviteResponse(record);
  const log = ctx.log.child({ call: indexed, callId: req.callId });
  if (final === undefined) {
    // Waiting for its controller (or its other leg): a 100 Trying tells the transport that a ua
    // holds the INVITE, so it stops publishing it again (each delivery costs KV reads here).
    log.debug({ phase: record.phase }, 'repeated INVITE of a call in progress: 100 Trying');
    if (record.phase === 'offered' || record.phase === 'early') sendResponse(ctx, origin.instance, origin.txn, 'INVITE', requestResponse(record.invite.request, record, 100));
    return { kind: 'repeated' };
  }
  log.debug({ status: record.invite.finalStatus }, 'repeated INVITE: final response sent again');
  const spec = responseWithoutOwnContact(final.spec, 'INVITE', record.localTarget);
  sendResponse(ctx, origin.instance, origin.txn, 'INVITE', spec, { retransmit2xx: final.retransmit2xx });
  return { kind: 'repeated' };
}

/**
 * A BYE for a dialog that a BYE of the same peer ended: 200. The same CSeq is that BYE delivered
 * again: nothing else happens. A higher one is the peer trying again after a final answer other
 * than 200 (or none), typically a 503 from a NATS failover whose write of the end landed although
 * it could not be confirmed in time: the dialog is gone as the peer asks, so 200, not 481. That
 * 503 also means the instance did not carry out the end (the ended event, the BYE to the other leg
 * of a bridge, the removal: they follow a confirmed write), so this BYE's write, which records its
 * CSeq, carries them out now, once (compare-and-set). Should the earlier BYE have succeeded after
 * all (its 200 lost beyond the peer's Timer F), `ended` is published a second time: at least once
 * rather than never.
 * undefined when the request is anything else (the dialog core decides).
 */
export function repeatedBye(record: DialogRecord, req: SipRequest, now: number): Transition | undefined {
  if (req.method !== 'BYE' || record.phase !== 'ended' || req.cseq.seq === record.invite.cseq) return undefined;
  const ended = record.ended;
  const bye = ended?.bye;
  if (bye === undefined ? req.cseq.seq !== record.remoteCseq : req.cseq.seq < bye) return undefined;
  if (req.callId !== record.callId || req.from.tag !== record.remoteTag || req.to.tag !== record.localTag) return undefined;
  const out = new Out(record);
  out.respond({ to: 'request' }, requestResponse(snapshotRequest(req), record, 200));
  if (ended !== undefined && bye !== undefined && req.cseq.seq > bye) {
    out.set({ remoteCseq: req.cseq.seq, ended: { ...ended, bye: req.cseq.seq } }, now);
    out.events.push({ event: 'ended', cause: ended.cause, ...(ended.status === undefined ? {} : { status: ended.status }) });
  }
  return out.done();
}
