/**
 * A minimal stand-in for the ua service, for transport tests: consumes `<p>.req.*` (queue `ua`)
 * and answers through `<p>.out.<instance>`: 200 to OPTIONS and REGISTER, INVITE → 180 → 200 with
 * SDP (retransmitted until ACK), BYE → 200, CANCEL → 487 to the INVITE. Every envelope received is
 * recorded so tests can count what was published.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson, fromBase64, OutMessage, QUEUE, RequestEnvelope, subjects, toBase64 } from '@sipnats/contracts';
import { createResponse, parseMessage, serializeMessage, type SipRequest } from '@sipnats/sip-codec';

export interface ResponderOptions {
  readonly natsUrl: string;
  readonly prefix?: string;
  /** Delay before the 200 to INVITE (ms). Default 50. */
  readonly answerDelayMs?: number;
  /** When true, INVITEs get no answer at all (tests of draining and timeouts). */
  readonly silent?: boolean;
}

export interface Responder {
  readonly nc: NatsConnection;
  /** Every request envelope received, in order. */
  readonly received: RequestEnvelope[];
  /** How many envelopes had this method. */
  count(method: string): number;
  /** Envelopes with the same (method, Call-ID, CSeq, branch) seen more than once. */
  duplicates(): string[];
  close(): Promise<void>;
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

export async function startResponder(o: ResponderOptions): Promise<Responder> {
  const nc = await connect({ servers: o.natsUrl, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const s = subjects(o.prefix ?? 'sip');
  const received: RequestEnvelope[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const send = (env: RequestEnvelope, req: SipRequest, status: number, extra: { sdp?: boolean; toTag?: string } = {}): void => {
    const opts: Parameters<typeof createResponse>[3] = { toTag: extra.toTag ?? 'resp' + env.cseq.seq, copyRecordRoute: req.method === 'INVITE' };
    const res = createResponse(req, status, undefined, extra.sdp === true ? { ...opts, body: SDP, contentType: 'application/sdp' } : opts);
    const out: OutMessage = { v: 1, kind: 'response', raw: toBase64(serializeMessage(res)), flow: env.flow };
    if (env.txn !== undefined) out.txn = env.txn;
    if (status >= 200 && status < 300 && req.method === 'INVITE') out.retransmit2xx = true;
    nc.publish(s.out(env.instance), encodeJson(OutMessage, out));
  };
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const sub = nc.subscribe(s.reqAll(), { queue: QUEUE.ua });
  void (async () => {
    for await (const m of sub) {
      const d = decodeJson(RequestEnvelope, m.data);
      if (!d.ok) continue;
      const env = d.value;
      received.push(env);
      let req: SipRequest;
      try {
        const msg = parseMessage(fromBase64(env.raw));
        if (msg.kind !== 'request') continue;
        req = msg;
      } catch {
        continue;
      }
      switch (req.method) {
        case 'INVITE':
          if (o.silent === true) break;
          send(env, req, 180, { toTag: 'tag' + req.callId.length });
          later(o.answerDelayMs ?? 50, () => send(env, req, 200, { sdp: true, toTag: 'tag' + req.callId.length }));
          break;
        case 'ACK':
          break;
        case 'CANCEL': {
          const invite = received.find((e) => e.txn === env.cancels);
          if (invite !== undefined) {
            const inv = parseMessage(fromBase64(invite.raw));
            if (inv.kind === 'request') send(invite, inv, 487);
          }
          break;
        }
        default:
          send(env, req, 200);
      }
    }
  })();

  return {
    nc,
    received,
    count: (method) => received.filter((e) => e.method === method).length,
    duplicates() {
      const seen = new Map<string, number>();
      for (const e of received) {
        const k = `${e.method} ${e.callId} ${e.cseq.seq} ${e.branch}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      sub.unsubscribe();
      await nc.drain();
    },
  };
}
