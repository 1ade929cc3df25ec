/** Requests the ua sends in app tests (outbound legs, in-dialog requests) and responses to them, as the transport would deliver. */
import assert from 'node:assert/strict';
import { decodeJson, encodeJson, fromBase64, OutMessage, ResponseEnvelope, toBase64 } from '@sipnats/contracts';
import { parseMessage, type SipRequest } from '@sipnats/sip-codec';
import { FLOW, sipText, type Harness } from './app-harness.js';

/** The top Via the transport put on a request it sent for the ua. */
export const VIA = 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-tr1-abc;rport';

export interface Sent {
  readonly out: OutMessage;
  readonly subject: string;
  readonly reply: string | undefined;
  readonly msg: SipRequest;
}

/** Requests the ua published since `from` (index in messaging.published). */
export function sentRequests(h: Harness, from = 0): Sent[] {
  return h.messaging.published.slice(from).flatMap((p) => {
    if (!p.subject.startsWith('sip.out')) return [];
    const r = decodeJson(OutMessage, p.data);
    if (!r.ok || r.value.kind !== 'request') return [];
    // The ua sends requests without Via (the transport adds its own).
    return [{ out: r.value, subject: p.subject, reply: p.reply, msg: parseMessage(fromBase64(r.value.raw), { allowMissingVia: true }) as SipRequest }];
  });
}

/** Lets the bridge reactions (promise chains outside the work queue) run to the end. */
export async function settle(h: Harness): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await h.idle();
    await new Promise((r) => setImmediate(r));
  }
}

/** Delivers a response to the request `sent` on its reply subject, as the transport would. */
export async function respondTo(h: Harness, sent: Sent, status: number, reason: string, o: { toTag?: string; extra?: string[]; body?: string } = {}): Promise<void> {
  const m = sent.msg;
  const to = o.toTag === undefined ? m.to.raw : `${m.to.raw};tag=${o.toTag}`;
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    `Via: ${VIA}`,
    `From: ${m.from.raw}`,
    `To: ${to}`,
    `Call-ID: ${m.callId}`,
    `CSeq: ${m.cseq.seq} ${m.cseq.method}`,
    ...(o.extra ?? []),
    ...(o.body === undefined ? [] : ['Content-Type: application/sdp']),
  ];
  const env: ResponseEnvelope = {
    v: 1,
    instance: 't1',
    txn: 'ct1',
    status,
    reason,
    callId: m.callId,
    cseq: { seq: m.cseq.seq, method: m.cseq.method },
    ...(o.toTag === undefined ? {} : { toTag: o.toTag }),
    flow: FLOW,
    raw: toBase64(sipText(lines, o.body ?? '')),
  };
  assert.ok(sent.reply !== undefined, `the ${m.method} has a reply subject`);
  h.messaging.deliver(sent.reply, encodeJson(ResponseEnvelope, env));
  await settle(h);
}
