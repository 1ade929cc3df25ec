/**
 * A full call as the transport would publish it: alice (127.0.0.1:5061) calls bob (127.0.0.1:5062)
 * through transport instance `t1` (127.0.0.1:5060): INVITE/100/180/200/ACK/BYE/200, each message
 * once inbound and once outbound. Shared by the tail/hep unit tests and the tools integration tests.
 */
export interface FixtureMessage {
  readonly direction: 'in' | 'out';
  readonly remote: string;
  readonly text: string;
  /** Method, or status and reason, as the one-line form shows it. */
  readonly label: string;
}

export const CALL_ID = 'a84b4c76e66710@pc33.example.com';
export const ALICE = '127.0.0.1:5061';
export const BOB = '127.0.0.1:5062';
export const LOCAL = '127.0.0.1:5060';
export const INSTANCE = 't1';

const VIA_A = 'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK776asdhds;rport=5061;received=127.0.0.1';
const VIA_T = 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsipnats-t1-1';
const VIA_A2 = 'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK776asdhds2;rport=5061;received=127.0.0.1';
const VIA_T2 = 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsipnats-t1-2';
const FROM = 'From: "Alice" <sip:alice@127.0.0.1:5061>;tag=1928301774';
const TO = 'To: <sip:bob@127.0.0.1:5060>';
const TO_TAG = 'To: <sip:bob@127.0.0.1:5060>;tag=a6c85cf';
const SDP = 'v=0\r\no=alice 2890844526 2890844526 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n';

function msg(start: string, headers: readonly string[], body = ''): string {
  const all = [...headers, `Content-Length: ${Buffer.byteLength(body)}`];
  if (body.length > 0) all.splice(all.length - 1, 0, 'Content-Type: application/sdp');
  return `${start}\r\n${all.join('\r\n')}\r\n\r\n${body}`;
}

const common = (cseq: string, to: string, vias: readonly string[]): string[] => [...vias, 'Max-Forwards: 70', FROM, to, `Call-ID: ${CALL_ID}`, `CSeq: ${cseq}`];

const invite = (vias: readonly string[]): string =>
  msg('INVITE sip:bob@127.0.0.1:5060 SIP/2.0', [...common('314159 INVITE', TO, vias), 'Contact: <sip:alice@127.0.0.1:5061>'], SDP);
const response = (status: string, cseq: string, vias: readonly string[], to = TO_TAG, body = ''): string =>
  msg(`SIP/2.0 ${status}`, [...common(cseq, to, vias).filter((h) => !h.startsWith('Max-Forwards')), 'Contact: <sip:bob@127.0.0.1:5062>'], body);
const inDialog = (method: string, cseq: string, vias: readonly string[]): string => msg(`${method} sip:bob@127.0.0.1:5062 SIP/2.0`, common(cseq, TO_TAG, vias));

export const CALL: readonly FixtureMessage[] = [
  { direction: 'in', remote: ALICE, label: 'INVITE', text: invite([VIA_A]) },
  { direction: 'out', remote: ALICE, label: '100 Trying', text: response('100 Trying', '314159 INVITE', [VIA_A], TO) },
  { direction: 'out', remote: BOB, label: 'INVITE', text: invite([VIA_T, VIA_A]) },
  { direction: 'in', remote: BOB, label: '100 Trying', text: response('100 Trying', '314159 INVITE', [VIA_T, VIA_A], TO) },
  { direction: 'in', remote: BOB, label: '180 Ringing', text: response('180 Ringing', '314159 INVITE', [VIA_T, VIA_A]) },
  { direction: 'out', remote: ALICE, label: '180 Ringing', text: response('180 Ringing', '314159 INVITE', [VIA_A]) },
  { direction: 'in', remote: BOB, label: '200 OK', text: response('200 OK', '314159 INVITE', [VIA_T, VIA_A], TO_TAG, SDP) },
  { direction: 'out', remote: ALICE, label: '200 OK', text: response('200 OK', '314159 INVITE', [VIA_A], TO_TAG, SDP) },
  { direction: 'in', remote: ALICE, label: 'ACK', text: inDialog('ACK', '314159 ACK', [VIA_A2]) },
  { direction: 'out', remote: BOB, label: 'ACK', text: inDialog('ACK', '314159 ACK', [VIA_T2, VIA_A2]) },
  { direction: 'in', remote: ALICE, label: 'BYE', text: inDialog('BYE', '314160 BYE', [VIA_A2]) },
  { direction: 'out', remote: BOB, label: 'BYE', text: inDialog('BYE', '314160 BYE', [VIA_T2, VIA_A2]) },
  { direction: 'in', remote: BOB, label: '200 OK', text: response('200 OK', '314160 BYE', [VIA_T2, VIA_A2]) },
  { direction: 'out', remote: ALICE, label: '200 OK', text: response('200 OK', '314160 BYE', [VIA_A2]) },
];

/** NATS headers of fixture message `i`, sent `baseTime + i` ms. */
export function fixtureHeaders(m: FixtureMessage, time: number, instance = INSTANCE): Record<string, string> {
  return {
    'Sipnats-Transport': 'udp',
    'Sipnats-Local': LOCAL,
    'Sipnats-Remote': m.remote,
    'Sipnats-Flow': `udp:${LOCAL}/${m.remote}`,
    'Sipnats-Time': String(time),
    'Sipnats-Instance': instance,
  };
}
