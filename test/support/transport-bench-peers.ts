/**
 * The two answering peers of the transport benchmark (test/bench/transport.bench.ts), run as their
 * own processes so their CPU is measured apart:
 *
 *   node --import tsx test/support/transport-bench-peers.ts udp <ip> <port>
 *     A bare Node.js UDP responder: answers every request 200 by copying Via, From, To (plus a
 *     tag), Call-ID and CSeq lines textually, without parsing: the ceiling of Node on the machine.
 *   node --import tsx test/support/transport-bench-peers.ts nats <url> [prefix]
 *     A lean stand-in for ua: takes `<p>.req.OPTIONS` (queue `ua`), answers 200 through
 *     `<p>.out.<instance>` on the envelope's server transaction, with the same textual copy.
 *
 * Both print `ready` on stdout once they listen, and exit on SIGTERM.
 */
import { createSocket } from 'node:dgram';
import { connect } from '@nats-io/transport-node';
import { QUEUE, subjects } from '@sipnats/contracts';

const CRLF = '\r\n';
const KEEP = /^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:/i;
const TO = /^(to|t)[ \t]*:/i;

/** A 200 OK for `request` built by copying its Via, From, To, Call-ID and CSeq lines. */
export function answer200(request: string): string {
  const headEnd = request.indexOf(CRLF + CRLF);
  const lines = (headEnd < 0 ? request : request.slice(0, headEnd)).split(CRLF);
  let out = 'SIP/2.0 200 OK' + CRLF;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!KEEP.test(line)) continue;
    out += TO.test(line) && !/;\s*tag=/i.test(line) ? `${line};tag=bench` + CRLF : line + CRLF;
  }
  return out + 'Content-Length: 0' + CRLF + CRLF;
}

function udpPeer(ip: string, port: number): void {
  const socket = createSocket({ type: ip.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4_194_304, sendBufferSize: 4_194_304 });
  socket.on('message', (msg, rinfo) => {
    const text = msg.toString('latin1');
    if (text.startsWith('SIP/2.0 ')) return;
    socket.send(Buffer.from(answer200(text), 'latin1'), rinfo.port, rinfo.address);
  });
  socket.bind(port, ip, () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => socket.close(() => process.exit(0)));
}

interface BenchEnvelope {
  readonly instance: string;
  readonly txn?: string;
  readonly flow: unknown;
  readonly raw: string;
}

async function natsPeer(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url });
  const s = subjects(prefix);
  const sub = nc.subscribe(s.req('OPTIONS'), { queue: QUEUE.ua });
  process.on('SIGTERM', () => void nc.drain().then(() => process.exit(0)));
  await nc.flush();
  process.stdout.write('ready\n');
  for await (const m of sub) {
    const env = JSON.parse(Buffer.from(m.data).toString('utf8')) as BenchEnvelope;
    const res = answer200(Buffer.from(env.raw, 'base64').toString('latin1'));
    const out = { v: 1, kind: 'response', raw: Buffer.from(res, 'latin1').toString('base64'), flow: env.flow, txn: env.txn };
    nc.publish(s.out(env.instance), JSON.stringify(out));
  }
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'udp' && a !== undefined && b !== undefined) udpPeer(a, Number(b));
else if (mode === 'nats' && a !== undefined) void natsPeer(a, b ?? 'sip');
else if (mode !== undefined) {
  process.stderr.write('usage: transport-bench-peers.ts udp <ip> <port> | nats <url> [prefix]\n');
  process.exit(2);
}
