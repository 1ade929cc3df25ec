/**
 * Blind transfer end to end: real SIPp (test/sipp/ua-transfer*.xml) → the real transport (UDP) → a
 * private nats-server with JetStream → the real ua, with a test controller on NATS that answers
 * every call and then, by the Request-URI user SIPp calls (`-s`):
 *   transfer      `transfer` to sip:carol@example.com once the call is confirmed; SIPp answers the
 *                 REFER 202, NOTIFYs 100 and 200 (terminated) and takes our BYE
 *   transferbusy  the same, but SIPp's final sipfrag is 486: the call stays, SIPp hangs up
 *   referme       SIPp REFERs us; on `transferred` TRANSFER_REQUESTED the controller hangs up
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp, type SippResult } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const answerSdp = 'v=0\r\no=ua 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';
const CAROL = 'sip:carol@example.com';

function userOf(uri: string): string {
  return /^sips?:([^@;>]+)@/.exec(uri)?.[1] ?? '';
}

describe('ua blind transfer end to end: SIPp → transport → NATS → ua, controller over NATS (RFC 3515)', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  const events = new Map<string, CallEvent[]>();
  const replies = new Map<string, CommandReply[]>();
  const raw: { subject: string; text: string }[] = [];

  const command = async (action: string, payload: Record<string, unknown>): Promise<void> => {
    if (nc === undefined) return;
    const who = String(payload['who']);
    const { who: _who, ...rest } = payload;
    let reply: CommandReply;
    try {
      const m = await nc.request(`sip.cmd.call.${action}`, JSON.stringify({ v: 1, action, ...rest }), { timeout: 10_000 });
      const r = decodeJson(CommandReply, m.data);
      reply = r.ok ? r.value : { v: 1, ok: false, error: 'invalid reply' };
    } catch (err) {
      reply = { v: 1, ok: false, error: (err as Error).message };
    }
    const list = replies.get(`${who}:${action}`) ?? [];
    list.push(reply);
    replies.set(`${who}:${action}`, list);
  };

  const control = async (ev: CallEvent): Promise<void> => {
    const call = ev.call;
    const who = userOf(ev.to.uri);
    if (!['transfer', 'transferbusy', 'referme'].includes(who)) return;
    if (ev.event === 'offer') {
      await command('ring', { who, call });
      await command('answer', { who, call, sdp: answerSdp });
    } else if (ev.event === 'confirmed' && who !== 'referme') {
      await command('transfer', { who, call, target: CAROL, headers: { 'X-Ticket': 'T-1' } });
    } else if (ev.event === 'transferred' && ev.cause === 'TRANSFER_REQUESTED') {
      await command('hangup', { who, call });
    }
  };

  /** Events of the one call to `who`, waiting until its last event is `last` (or 8 s). */
  const eventsOf = async (who: string, last: string): Promise<CallEvent[]> => {
    const deadline = Date.now() + 8000;
    for (;;) {
      const list = [...events.values()].find((l) => l[0] !== undefined && userOf(l[0].to.uri) === who) ?? [];
      if (list.at(-1)?.event === last || Date.now() > deadline) return list;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const sipp = async (scenario: string, service: string): Promise<SippResult> => {
    if (transport === undefined) throw new Error('no transport');
    return runSipp({
      scenario,
      remote: `127.0.0.1:${transport.ports['udp']}`,
      localPort: await freePort(),
      calls: 1,
      timeoutMs: 20_000,
      args: ['-s', service, '-recv_timeout', '10000'],
    });
  };
  const explain = (r: SippResult): string =>
    `SIPp exit ${String(r.code)}\n${r.output.slice(-2500)}\n--- ua ---\n${(ua?.logs ?? []).slice(-15).join('\n')}\n--- transport ---\n${(transport?.logs ?? []).slice(-15).join('\n')}`;
  const summary = (list: readonly CallEvent[]): (string | number | undefined)[][] =>
    list.filter((e) => e.event !== 'ringing').map((e) => [e.event, e.status, e.cause]);

  before(async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-xfer', transports: ['udp'] });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-xfer', env: { SIPNATS_SWEEP_INTERVAL: '200ms' } });
    const conn = await connect({ servers: nats.url });
    nc = conn;
    const callSub = conn.subscribe('sip.evt.call.*');
    void (async () => {
      for await (const m of callSub) {
        const r = decodeJson(CallEvent, m.data);
        if (!r.ok) continue;
        const list = events.get(r.value.sipCallId) ?? [];
        list.push(r.value);
        events.set(r.value.sipCallId, list);
        void control(r.value);
      }
    })();
    const rawSub = conn.subscribe('sip.raw.out.>');
    void (async () => {
      for await (const m of rawSub) {
        raw.push({ subject: m.subject, text: Buffer.from(m.data).toString('utf8') });
        if (raw.length > 2000) raw.splice(0, 1000);
      }
    })();
    await conn.flush();
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
  });

  it('transfer: REFER → 202 (command ok), NOTIFY 100 and 200 sipfrag answered 200 → transferred events; our BYE → ended BLIND_TRANSFER', async () => {
    const r = await sipp('ua-transfer.xml', 'transfer');
    assert.equal(r.code, 0, explain(r));
    const list = await eventsOf('transfer', 'ended');
    assert.deepEqual(summary(list), [
      ['offer', undefined, undefined],
      ['answered', 200, undefined],
      ['confirmed', undefined, undefined],
      ['transferred', 202, undefined],
      ['transferred', 100, undefined],
      ['transferred', 200, 'TRANSFER_COMPLETED'],
      ['ended', undefined, 'BLIND_TRANSFER'],
    ]);
    for (const e of list.filter((x) => x.event === 'transferred')) assert.equal(e.referTo, CAROL);
    const [reply] = replies.get('transfer:transfer') ?? [];
    assert.deepEqual([reply?.ok, reply?.status], [true, 202], JSON.stringify(reply));
    // On the wire: the REFER went out with our X- header and a Contact the transport wrote.
    const refer = raw.find((m) => m.text.startsWith('REFER ') && m.text.includes(`Refer-To: <${CAROL}>`));
    assert.ok(refer, 'the REFER was seen on sip.raw.out');
    assert.match(refer.text, /\r\nX-Ticket: T-1\r\n/);
    assert.match(refer.text, /\r\n(Contact|m): <sip:[^>]+>\r\n/i);
  });

  it('transfer whose new call fails (sipfrag 486): transferred TRANSFER_FAILED, the call stays up until SIPp\'s BYE', async () => {
    const r = await sipp('ua-transfer-busy.xml', 'transferbusy');
    assert.equal(r.code, 0, explain(r));
    const list = await eventsOf('transferbusy', 'ended');
    assert.deepEqual(summary(list), [
      ['offer', undefined, undefined],
      ['answered', 200, undefined],
      ['confirmed', undefined, undefined],
      ['transferred', 202, undefined],
      ['transferred', 100, undefined],
      ['transferred', 486, 'TRANSFER_FAILED'],
      ['ended', undefined, 'NORMAL_CLEARING'],
    ]);
  });

  it('the peer\'s REFER: 202 and NOTIFY 100 Trying; the controller sees TRANSFER_REQUESTED and hangs up → NOTIFY 200 OK (terminated), then BYE', async () => {
    const r = await sipp('ua-transfer-refer-in.xml', 'referme');
    assert.equal(r.code, 0, explain(r));
    const list = await eventsOf('referme', 'ended');
    assert.deepEqual(summary(list), [
      ['offer', undefined, undefined],
      ['answered', 200, undefined],
      ['confirmed', undefined, undefined],
      ['transferred', undefined, 'TRANSFER_REQUESTED'],
      ['ended', undefined, 'NORMAL_CLEARING'],
    ]);
    const requested = list.find((e) => e.event === 'transferred');
    assert.equal(requested?.referTo, CAROL);
    assert.match(requested?.referredBy ?? '', /^sip:sipp@127\.0\.0\.1:\d+$/);
    assert.deepEqual((replies.get('referme:hangup') ?? []).map((x) => x.ok), [true]);
  });
});
