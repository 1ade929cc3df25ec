/** Outbound requests the ua published, and responses to them delivered as the transport would (app tests). */
import assert from 'node:assert/strict';
import { decodeJson, encodeJson, fromBase64, OutMessage, ResponseEnvelope, toBase64 } from '@sipnats/contracts';
import { parseMessage, type SipRequest } from '@sipnats/sip-codec';
import { FLOW, sipText, type Harness } from './app-harness.js';

export const VIA = 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-tr1-abc;rport';

export interface Sent {
  readonly out: OutMessage;
  readonly subject: string;
  readonly reply: string | undefined;
  readonly msg: SipRequest;
}

/** Requests the ua published since `from` (index in messaging.published). */
export function requests(h: Harness, from = 0): Sent[] {
  return h.messaging.published.slice(from).flatMap((p) => {
    if (!p.subject.startsWith('sip.out')) return [];
    const r = decodeJson(OutMessage, p.data);
    if (!r.ok || r.value.kind !== 'request') return [];
    // The ua sends requests without Via (the transport adds its own); a CANCEL carries the INVITE's.
    return [{ out: r.value, subject: p.subject, reply: p.reply, msg: parseMessage(fromBase64(r.value.raw), { allowMissingVia: true }) as SipRequest }];
  });
}

export async function settle(h: Harness): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await h.idle();
    await new Promise((r) => setImmediate(r));
  }
}

/** Delivers a response to the request `inv` (an INVITE, a BYE...) on its reply subject, as the transport would. */
export async function respond(h: Harness, inv: Sent, status: number, reason: string, o: { toTag?: string; extra?: string[]; body?: string } = {}): Promise<void> {
  const m = inv.msg;
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
  const raw = sipText(lines, o.body ?? '');
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
    raw: toBase64(raw),
  };
  assert.ok(inv.reply !== undefined, 'the INVITE has a reply subject');
  h.messaging.deliver(inv.reply, encodeJson(ResponseEnvelope, env));
  await settle(h);
}
