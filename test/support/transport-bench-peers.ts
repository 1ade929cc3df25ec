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
/** Header names (full and compact, lower-case) whose lines a response copies. */
const KEEP = new Set(['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq']);
const TAG = /;\s*tag=/i;

/**
 * A 200 OK for `request` built by copying its Via, From, To, Call-ID and CSeq lines (a To tag is
 * added when there is none). One pass over the header lines, no regular expression per line: the
 * responder runs once per request of the benchmark and its CPU is counted next to the transport's.
 */
export function answer200(request: string): string {
  const headEnd = request.indexOf(CRLF + CRLF);
  const end = headEnd < 0 ? request.length : headEnd;
  let out = 'SIP/2.0 200 OK' + CRLF;
  let at = request.indexOf(CRLF);
  while (at >= 0 && at < end) {
    const start = at + 2;
    const next = request.indexOf(CRLF, start);
    const stop = next < 0 || next > end ? end : next;
    const colon = request.indexOf(':', start);
    if (colon > start && colon < stop) {
      let nameEnd = colon;
      while (nameEnd > start && (request.charCodeAt(nameEnd - 1) === 0x20 || request.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
      const name = request.slice(start, nameEnd).toLowerCase();
      if (KEEP.has(name)) {
        const line = request.slice(start, stop);
        out += (name === 'to' || name === 't') && !TAG.test(line) ? `${line};tag=bench` + CRLF : line + CRLF;
      }
    }
    at = stop === end ? -1 : stop;
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

/**
 * Each request is answered in the subscription callback, so that every request of one read from
 * NATS is answered before nats.js flushes (one socket write for all of them), as a ua does.
 */
async function natsPeer(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url });
  const s = subjects(prefix);
  const outSubjects = new Map<string, string>();
  nc.subscribe(s.req('OPTIONS'), {
    queue: QUEUE.ua,
    callback: (err, m) => {
      if (err !== null) return;
      const d = m.data;
      const env = JSON.parse(Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8')) as BenchEnvelope;
      const res = answer200(Buffer.from(env.raw, 'base64').toString('latin1'));
      const out = { v: 1, kind: 'response', raw: Buffer.from(res, 'latin1').toString('base64'), flow: env.flow, txn: env.txn };
      let subject = outSubjects.get(env.instance);
      if (subject === undefined) {
        subject = s.out(env.instance);
        if (outSubjects.size < 64) outSubjects.set(env.instance, subject);
      }
      nc.publish(subject, Buffer.from(JSON.stringify(out), 'utf8'));
    },
  });
  process.on('SIGTERM', () => void nc.drain().then(() => process.exit(0)));
  await nc.flush();
  process.stdout.write('ready\n');
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'udp' && a !== undefined && b !== undefined) udpPeer(a, Number(b));
else if (mode === 'nats' && a !== undefined) void natsPeer(a, b ?? 'sip');
else if (mode !== undefined) {
  process.stderr.write('usage: transport-bench-peers.ts udp <ip> <port> | nats <url> [prefix]\n');
  process.exit(2);
}
