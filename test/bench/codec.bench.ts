/**
 * Codec benchmark: parse and serialize rates on one core for a realistic INVITE with SDP and a
 * 200 OK, side by side with npm `sip` (parse/stringify). Run with `pnpm bench:codec`
 * (build first: `pnpm exec tsc -b packages/sip-codec`).
 */
import { createRequire } from 'node:module';
import { parseMessage, serializeMessage, type SipMessage } from '@sipnats/sip-codec';

const require = createRequire(import.meta.url);
const sip = require('sip') as { parse(s: string): unknown; stringify(m: unknown): string };

const sdp = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.101',
  's=Call',
  'c=IN IP4 192.0.2.101',
  't=0 0',
  'm=audio 49170 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

const invite = Buffer.from(
  [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
    'Max-Forwards: 70',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>',
    'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE, PRACK',
    'Supported: replaces, timer, 100rel',
    'User-Agent: Example SIP Phone 5.2.1',
    'Session-Expires: 1800;refresher=uac',
    'Min-SE: 90',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n'),
);

const ok = Buffer.from(
  [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.101',
    'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:bob@192.0.2.4:5060>',
    'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE',
    'Supported: timer',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

const WINDOW_MS = 1500;

function rate(fn: () => void): number {
  for (let i = 0; i < 20000; i++) fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(WINDOW_MS) * 1_000_000n;
  let now = t0;
  while (now < until) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - t0) / 1e9);
}

let sink = 0;
/** What the transport reads on every packet: top Via (branch, sent-by, rport), Call-ID, CSeq, tags. */
function transportRead(m: SipMessage): void {
  const via = m.topVia;
  sink += (via.branch?.length ?? 0) + via.host.length + (via.port ?? 0) + (via.rport === undefined ? 0 : 1);
  sink += m.callId.length + m.cseq.seq;
  sink += (m.from.tag?.length ?? 0) + (m.to.tag?.length ?? 0);
}

const fmt = (r: number): string => `${Math.round(r).toLocaleString('en-US').padStart(11)} msg/s`;

console.log(`node ${process.version}; INVITE ${invite.length} bytes, 200 OK ${ok.length} bytes; ${WINDOW_MS} ms per figure`);
for (const [name, bytes] of [['INVITE', invite], ['200 OK', ok]] as const) {
  const text = bytes.toString('latin1');
  const parsedSip = sip.parse(text);
  const ours = parseMessage(bytes);
  const fresh = (): SipMessage => {
    const m = parseMessage(bytes);
    m.setTopViaParams({ received: '198.51.100.7' });
    return m;
  };
  const edited = fresh();
  const rSip = rate(() => {
    sink += (sip.parse(text) as object) === null ? 1 : 0;
  });
  const rOurs = rate(() => {
    sink += parseMessage(bytes).kind.length;
  });
  const rOursRead = rate(() => transportRead(parseMessage(bytes)));
  const sSip = rate(() => {
    sink += sip.stringify(parsedSip).length;
  });
  const sOurs = rate(() => {
    sink += serializeMessage(ours).length;
  });
  const sEdited = rate(() => {
    sink += serializeMessage(edited).length;
  });
  console.log(`\n${name}`);
  console.log(`  parse      sip.parse                 ${fmt(rSip)}`);
  console.log(`  parse      parseMessage              ${fmt(rOurs)}   ${(rOurs / rSip).toFixed(1)}x sip`);
  console.log(`  parse+read parseMessage + txn fields ${fmt(rOursRead)}   ${(rOursRead / rSip).toFixed(1)}x sip`);
  console.log(`  serialize  sip.stringify             ${fmt(sSip)}`);
  console.log(`  serialize  serializeMessage (as is)  ${fmt(sOurs)}   ${(sOurs / sSip).toFixed(1)}x sip`);
  console.log(`  serialize  serializeMessage (edited) ${fmt(sEdited)}   ${(sEdited / sSip).toFixed(1)}x sip`);
}
if (sink === -1) console.log('unreachable');
