/** SIP request texts for the app tests. */
import { sipText } from './app-harness.js';

export const SDP_OFFER = 'v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
export const SDP_ANSWER = 'v=0\r\no=ua 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';

export interface Dlg {
  readonly callId: string;
  readonly fromTag: string;
  toTag?: string | undefined;
}

export function req(method: string, d: Dlg, cseq: number, o: { extra?: string[]; body?: string; uri?: string; branch?: string; contentType?: string } = {}): Buffer {
  return sipText(
    [
      `${method} ${o.uri ?? 'sip:bob@127.0.0.1:5060'} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=${o.branch ?? `z9hG4bK-${method}-${cseq}-${d.callId}`};rport`,
      'Max-Forwards: 70',
      `From: "Alice" <sip:alice@127.0.0.1>;tag=${d.fromTag}`,
      `To: <sip:bob@127.0.0.1>${d.toTag === undefined ? '' : `;tag=${d.toTag}`}`,
      `Call-ID: ${d.callId}`,
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:alice@127.0.0.1:5070>',
      ...(o.body === undefined ? [] : [`Content-Type: ${o.contentType ?? 'application/sdp'}`]),
      ...(o.extra ?? []),
    ],
    o.body ?? '',
  );
}

export function invite(d: Dlg, extra: string[] = [], body = SDP_OFFER): Buffer {
  return req('INVITE', d, 1, { extra, body });
}

export function register(o: { user?: string; expires?: number; contact?: string; cseq?: number; auth?: string; callId?: string }): Buffer {
  const user = o.user ?? 'alice';
  return sipText([
    'REGISTER sip:test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-reg-${o.cseq ?? 1}-${Math.random().toString(36).slice(2)};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@test>;tag=rf1`,
    `To: <sip:${user}@test>`,
    `Call-ID: ${o.callId ?? 'reg-call-1'}`,
    `CSeq: ${o.cseq ?? 1} REGISTER`,
    `Contact: <${o.contact ?? `sip:${user}@127.0.0.1:5070`}>`,
    `Expires: ${o.expires ?? 600}`,
    ...(o.auth === undefined ? [] : [`Authorization: ${o.auth}`]),
  ]);
}
