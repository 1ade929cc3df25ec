/**
 * `originate` end to end: a controller on NATS → the real ua → the real transport (UDP) → a SIPp
 * UAS (test/sipp/uas-auth-call.xml) that challenges the INVITE with 407. With the right password
 * the call is set up (180, 200 with SDP, ACK) and the controller's hangup sends BYE; with a wrong
 * one the call ends in one `failed` event (AUTH_FAILED) after two INVITEs, not a loop.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { startSipp } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const OFFER = 'v=0\r\no=ctl 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('ua originate: controller → ua → transport → SIPp UAS with a 407 challenge', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  const events: CallEvent[] = [];

  const command = async (action: string, payload: Record<string, unknown>): Promise<CommandReply> => {
    if (nc === undefined) throw new Error('not connected');
    const m = await nc.request(`sip.cmd.call.${action}`, JSON.stringify({ v: 1, action, ...payload }), { timeout: 5000 });
    const r = decodeJson(CommandReply, m.data);
    if (!r.ok) throw new Error(r.errors.join('; '));
    return r.value;
  };

  const waitFor = async (call: string, names: readonly string[], ms = 10_000): Promise<CallEvent> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const ev = events.find((e) => e.call === call && names.includes(e.event));
      if (ev !== undefined) return ev;
      if (Date.now() > deadline) throw new Error(`no ${names.join('/')} for ${call}; got ${events.filter((e) => e.call === call).map((e) => e.event).join(',')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const logs = (): string => `--- ua ---\n${(ua?.logs ?? []).slice(-15).join('\n')}\n--- transport ---\n${(transport?.logs ?? []).slice(-15).join('\n')}`;

  before(async () => {
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-orig', transports: ['udp'] });
    ua = await startUa({ natsUrl: nats.url, instance: 'ua-orig', env: { SIPNATS_SWEEP_INTERVAL: '200ms' } });
    nc = await connect({ servers: nats.url });
    const sub = nc.subscribe('sip.evt.call.*');
    void (async () => {
      for await (const m of sub) {
        const r = decodeJson(CallEvent, m.data);
        if (r.ok) events.push(r.value);
      }
    })();
    await nc.flush();
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    await ua?.stop('SIGTERM');
    await transport?.stop('SIGTERM');
    await nats?.dispose();
  });

  for (const right of [true, false]) {
    it(right ? 'right credentials: 407 answered, 180/200 with SDP, ACK; hangup sends BYE' : 'wrong credentials: failed (AUTH_FAILED, 407) after two INVITEs', async () => {
      const port = await freePort();
      const target = `sip:bob@127.0.0.1:${port}`;
      // No qop: response = MD5(HA1:nonce:HA2), HA1 = MD5(user:realm:password), HA2 = MD5(INVITE:uri).
      const expected = md5(`${md5('alice:sipp:secret')}:sipp-nonce-1:${md5(`INVITE:${target}`)}`);
      const sipp = startSipp({ scenario: 'uas-auth-call.xml', localPort: port, timeoutMs: 20_000, args: ['-key', 'expected', expected] });
      await new Promise((r) => setTimeout(r, 300));
      const call = right ? 'orig-ok' : 'orig-bad';
      const reply = await command('originate', {
        call,
        from: 'sip:alice@example.com',
        to: target,
        sdp: OFFER,
        credentials: { username: 'alice', password: right ? 'secret' : 'wrong' },
        headers: { 'X-Test': call },
      });
      assert.equal(reply.ok, true, JSON.stringify(reply));
      if (right) {
        const answered = await waitFor(call, ['answered', 'failed']);
        assert.equal(answered.event, 'answered', `${JSON.stringify(answered)}\n${logs()}`);
        assert.equal(answered.direction, 'outbound');
        assert.match(answered.sdp ?? '', /m=audio 7000 RTP\/AVP 0/);
        assert.deepEqual(answered.headers, { 'X-Test': call });
        assert.ok(events.some((e) => e.call === call && e.event === 'ringing'));
        await new Promise((r) => setTimeout(r, 200));
        const hangup = await command('hangup', { call });
        assert.equal(hangup.ok, true, JSON.stringify(hangup));
        const ended = await waitFor(call, ['ended']);
        assert.equal(ended.cause, 'NORMAL_CLEARING');
      } else {
        const failed = await waitFor(call, ['failed', 'answered']);
        assert.equal(failed.event, 'failed');
        assert.equal(failed.cause, 'AUTH_FAILED');
        assert.equal(failed.status, 407);
      }
      const r = await sipp.done;
      assert.equal(r.code, 0, `SIPp exit ${String(r.code)}\n${r.output.slice(-2500)}\n${logs()}`);
      assert.equal(events.filter((e) => e.call === call && (e.event === 'failed' || e.event === 'ended')).length, 1, 'one final event');
    });
  }
});
