/**
 * End to end: real SIPp (scenarios in test/sipp/ua-*.xml) → the real transport (UDP) → a private
 * nats-server with JetStream → the real ua, with a test controller on NATS that acts on each
 * `offer` according to the Request-URI user SIPp calls (`-s`):
 *   answer   ring, then answer with SDP
 *   busy     reject 486
 *   ring     ring only (SIPp cancels)
 *   prack    reliable ring (RFC 3262), answer once SIPp's PRACK shows on sip.raw.in
 *   reinvite ring, answer; answer the peer's re-INVITE (`updated`) with new SDP
 *   nobody   nothing: the ua's no-answer timer answers
 * Registration uses digest credentials from a users file; the raw taps (`sip.raw.*`) show what was
 * on the wire.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson, RegEvent } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp, type SippResult } from '../support/sipp.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';
import { startUa, type UaProcess } from '../support/ua-process.js';

const answerSdp = (port: number): string => `v=0\r\no=ua 1 ${port} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 8\r\n`;
const ANSWER_TIMEOUT_MS = 1000;
const ADVERTISED = '192.0.2.10:5999';

/** Request-URI user of an event's To URI. */
function userOf(uri: string): string {
  return /^sips?:([^@;>]+)@/.exec(uri)?.[1] ?? '';
}

describe('ua end to end: SIPp → transport → NATS → ua, controller over NATS', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let transport: TransportProcess | undefined;
  let ua: UaProcess | undefined;
  let nc: NatsConnection | undefined;
  let dir: string | undefined;
  const events = new Map<string, CallEvent[]>();
  const regEvents: RegEvent[] = [];
  const raw: { subject: string; text: string }[] = [];
  const commandFailures: string[] = [];
  let lastAcceptedAuthorization: string | undefined;

  const command = async (action: string, payload: Record<string, unknown>): Promise<void> => {
    if (nc === undefined) return;
    try {
      const m = await nc.request(`sip.cmd.call.${action}`, JSON.stringify({ v: 1, action, ...payload }), { timeout: 5000 });
      const r = decodeJson(CommandReply, m.data);
      if (!r.ok) commandFailures.push(`${action}: invalid reply`);
      else if (!r.value.ok) commandFailures.push(`${action}: ${r.value.code ?? '?'} ${r.value.error ?? ''}`);
    } catch (err) {
      commandFailures.push(`${action}: ${(err as Error).message}`);
    }
  };

  const control = async (ev: CallEvent): Promise<void> => {
    const call = ev.call;
    const who = userOf(ev.to.uri);
    if (ev.event === 'updated' && who === 'reinvite') {
      await command('answer', { call, sdp: answerSdp(6002) });
      return;
    }
    if (ev.event !== 'offer') return;
    switch (who) {
      case 'answer':
      case 'reinvite':
        await command('ring', { call });
        await command('answer', { call, sdp: answerSdp(6000) });
        break;
      case 'busy':
        await command('reject', { call, status: 486 });
        break;
      case 'ring':
        await command('ring', { call });
        break;
      case 'prack': {
        await command('ring', { call, reliable: true });
        // Answer once SIPp's PRACK reached the transport, so SIPp sees 200 (PRACK) before 200 (INVITE).
        const prack = (m: { subject: string; text: string }): boolean =>
          m.subject.startsWith('sip.raw.in.') && m.text.startsWith('PRACK ') && m.text.includes(`\r\nCall-ID: ${ev.sipCallId}\r\n`);
        const deadline = Date.now() + 5000;
        while (!raw.some(prack) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await command('answer', { call, sdp: answerSdp(6000) });
        break;
      }
      default:
        break;
    }
  };

  /** Event names of every call whose To user is `who`, waiting until each has `last` (or 5 s). */
  const eventsOf = async (who: string, calls: number, last: readonly string[]): Promise<string[][]> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const lists = [...events.values()].filter((l) => l[0] !== undefined && userOf(l[0].to.uri) === who).map((l) => l.map((e) => e.event));
      if ((lists.length >= calls && lists.every((l) => last.includes(l.at(-1) ?? ''))) || Date.now() > deadline) return lists;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const sipp = async (scenario: string, service: string, o: { calls?: number; args?: string[] } = {}): Promise<SippResult> => {
    if (transport === undefined) throw new Error('no transport');
    const r = await runSipp({
      scenario,
      remote: `127.0.0.1:${transport.ports['udp']}`,
      localPort: await freePort(),
      calls: o.calls ?? 1,
      rate: 10,
      timeoutMs: 15_000,
      args: ['-s', service, '-recv_timeout', '8000', ...(o.args ?? [])],
      ...(dir === undefined ? {} : { cwd: dir }),
    });
    return r;
  };
  const explain = (r: SippResult): string =>
    `SIPp exit ${String(r.code)}\n${r.output.slice(-2500)}\n--- ua ---\n${(ua?.logs ?? []).slice(-15).join('\n')}\n--- transport ---\n${(transport?.logs ?? []).slice(-15).join('\n')}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sipnats-ua-e2e-'));
    writeFileSync(join(dir, 'users.json'), JSON.stringify({ users: [{ username: 'alice', realm: 'e2e', password: 'secret' }] }));
    nats = await startNatsServer();
    transport = await startTransport({ natsUrl: nats.url, instance: 'tr-e2e', transports: ['udp'] });
    ua = await startUa({
      natsUrl: nats.url,
      instance: 'ua-e2e',
      env: {
        SIPNATS_REALM: 'e2e',
        SIPNATS_USERS_FILE: join(dir, 'users.json'),
        // SIPp computes MD5 digests only, and answers the first challenge it is given.
        SIPNATS_DIGEST_ALGORITHMS: 'MD5',
        SIPNATS_ANSWER_TIMEOUT: `${ANSWER_TIMEOUT_MS}ms`,
        SIPNATS_ANSWER_TIMEOUT_STATUS: '480',
        SIPNATS_UPDATE_POLICY: 'controller',
        SIPNATS_UPDATE_TIMEOUT: '3s',
        SIPNATS_SWEEP_INTERVAL: '200ms',
      },
    });
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
    const regSub = conn.subscribe('sip.evt.reg.*');
    void (async () => {
      for await (const m of regSub) {
        const r = decodeJson(RegEvent, m.data);
        if (r.ok) regEvents.push(r.value);
      }
    })();
    const rawSub = conn.subscribe('sip.raw.>');
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
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    const failures = commandFailures.splice(0);
    if (this.currentTest?.state === 'passed') assert.deepEqual(failures, [], 'controller commands refused');
  });

  it('OPTIONS → 200 with Allow (INVITE) and Supported', async () => {
    const r = await sipp('ua-options.xml', 'alice');
    assert.equal(r.code, 0, explain(r));
  });

  it('REGISTER: 401 challenge, 200 with credentials; refresh; unregister (Expires: 0); events registered → refreshed → unregistered', async () => {
    const r = await sipp('ua-register.xml', 'alice', { args: ['-au', 'alice', '-ap', 'secret'] });
    assert.equal(r.code, 0, explain(r));
    const deadline = Date.now() + 3000;
    while (regEvents.filter((e) => e.aor.includes('alice')).length < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(
      regEvents.filter((e) => e.aor.includes('alice')).map((e) => e.event),
      ['registered', 'refreshed', 'unregistered'],
    );
    // The Authorization SIPp sent with the first accepted REGISTER (CSeq 2), from the raw tap.
    const accepted = raw.find((m) => m.subject.startsWith('sip.raw.in.') && m.text.startsWith('REGISTER ') && /\r\nCSeq: 2 REGISTER\r\n/.test(m.text));
    lastAcceptedAuthorization = /\r\nAuthorization: ([^\r\n]+)\r\n/.exec(accepted?.text ?? '')?.[1];
    assert.ok(lastAcceptedAuthorization?.includes('nc=00000001'), 'the accepted Authorization was seen on sip.raw.in');
  });

  it('REGISTER with a wrong password: 403 after the challenge, failed event', async () => {
    const r = await sipp('ua-register-forbidden.xml', 'alice', { args: ['-au', 'alice', '-ap', 'not-the-password'] });
    assert.equal(r.code, 0, explain(r));
    const deadline = Date.now() + 3000;
    while (!regEvents.some((e) => e.event === 'failed') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.match(regEvents.find((e) => e.event === 'failed')?.reason ?? '', /authentication failed/);
  });

  it('REGISTER replaying an accepted Authorization header is challenged again (RFC 7616 §3.4.5), the fresh challenge is accepted', async () => {
    assert.ok(lastAcceptedAuthorization !== undefined, 'needs the Authorization captured by the REGISTER test');
    const before = await metric('sipnats_ua_auth_failures_total', 'replay');
    const r = await sipp('ua-register-replay.xml', 'alice', { args: ['-au', 'alice', '-ap', 'secret', '-key', 'replayed_auth', lastAcceptedAuthorization] });
    assert.equal(r.code, 0, explain(r));
    assert.equal(await metric('sipnats_ua_auth_failures_total', 'replay'), before + 1, 'the 401 was for a replay');
  });

  it('call answered: INVITE → 180 → 200 (SDP) → ACK → BYE → 200; events offer → ringing → answered → confirmed → ended', async () => {
    const r = await sipp('ua-call.xml', 'answer', { calls: 3 });
    assert.equal(r.code, 0, explain(r));
    const lists = await eventsOf('answer', 3, ['ended']);
    assert.equal(lists.length, 3);
    for (const l of lists) assert.deepEqual(l, ['offer', 'ringing', 'answered', 'confirmed', 'ended']);
  });

  it('call rejected by the controller: 486, events offer → ended (CALL_REJECTED)', async () => {
    const r = await sipp('ua-call-busy.xml', 'busy');
    assert.equal(r.code, 0, explain(r));
    const [l] = await eventsOf('busy', 1, ['ended']);
    assert.deepEqual(l, ['offer', 'ended']);
    const ended = [...events.values()].flat().find((e) => e.event === 'ended' && userOf(e.to.uri) === 'busy');
    assert.equal(ended?.cause, 'CALL_REJECTED');
    assert.equal(ended?.status, 486);
  });

  it('call cancelled while ringing: 200 to the CANCEL, 487 to the INVITE; events offer → ringing → cancelled', async () => {
    const r = await sipp('ua-call-cancel.xml', 'ring');
    assert.equal(r.code, 0, explain(r));
    const [l] = await eventsOf('ring', 1, ['cancelled']);
    assert.deepEqual(l, ['offer', 'ringing', 'cancelled']);
  });

  it('call with 100rel: reliable 180 (Require: 100rel, RSeq), PRACK → 200, then 200 → ACK → BYE', async () => {
    const r = await sipp('ua-call-100rel.xml', 'prack');
    assert.equal(r.code, 0, explain(r));
    const [l] = await eventsOf('prack', 1, ['ended']);
    assert.deepEqual(l, ['offer', 'ringing', 'answered', 'confirmed', 'ended']);
  });

  it('re-INVITE mid-call reaches the controller (updated) and is answered with its SDP', async () => {
    const r = await sipp('ua-call-reinvite.xml', 'reinvite');
    assert.equal(r.code, 0, explain(r));
    const [l] = await eventsOf('reinvite', 1, ['ended']);
    assert.deepEqual(l?.filter((e) => e !== 'confirmed'), ['offer', 'ringing', 'answered', 'updated', 'ended']);
    const updated = [...events.values()].flat().find((e) => e.event === 'updated' && userOf(e.to.uri) === 'reinvite');
    assert.match(updated?.sdp ?? '', /m=audio \d+ RTP\/AVP 8/);
  });

  it(`no controller: the configured final response (480) after SIPNATS_ANSWER_TIMEOUT (${ANSWER_TIMEOUT_MS} ms)`, async () => {
    const r = await sipp('ua-call-noanswer.xml', 'nobody');
    assert.equal(r.code, 0, explain(r));
    const [l] = await eventsOf('nobody', 1, ['failed']);
    assert.deepEqual(l, ['offer', 'failed']);
    const evs = [...events.values()].find((x) => x[0] !== undefined && userOf(x[0].to.uri) === 'nobody') ?? [];
    const offer = evs.find((e) => e.event === 'offer');
    const failed = evs.find((e) => e.event === 'failed');
    assert.equal(failed?.cause, 'NO_ANSWER');
    assert.equal(failed?.status, 480);
    const waited = (failed?.at ?? 0) - (offer?.at ?? 0);
    assert.ok(waited >= ANSWER_TIMEOUT_MS - 50 && waited < ANSWER_TIMEOUT_MS + 1500, `final response after ${waited} ms`);
  });

  it(`Contact of the ua's 180/200 is the transport's advertised address (SIP_ADVERTISE=${ADVERTISED})`, async () => {
    if (nats === undefined) throw new Error('no nats');
    const adv = await startTransport({ natsUrl: nats.url, instance: 'tr-adv', transports: ['udp'], env: { SIP_ADVERTISE: ADVERTISED } });
    try {
      const r = await runSipp({
        scenario: 'ua-call.xml',
        remote: `127.0.0.1:${adv.ports['udp']}`,
        localPort: await freePort(),
        calls: 1,
        timeoutMs: 15_000,
        args: ['-s', 'answer', '-recv_timeout', '8000'],
        ...(dir === undefined ? {} : { cwd: dir }),
      });
      assert.equal(r.code, 0, `${explain(r)}\n--- tr-adv ---\n${adv.logs.slice(-15).join('\n')}`);
      const sent = raw.filter((m) => m.subject === 'sip.raw.out.tr-adv' && /^SIP\/2\.0 (180|200) /.test(m.text) && /\r\nCSeq: 1 INVITE\r\n/.test(m.text));
      assert.ok(sent.length >= 2, 'the 180 and the 200 were seen on sip.raw.out.tr-adv');
      for (const m of sent) {
        const contacts = [...m.text.matchAll(/\r\n(?:Contact|m): ([^\r\n]+)/gi)].map((x) => x[1]);
        assert.deepEqual(contacts.length, 1, `one Contact in:\n${m.text}`);
        assert.ok(contacts[0]?.includes(`@${ADVERTISED}`), `Contact ${contacts[0] ?? ''} names ${ADVERTISED}`);
      }
    } finally {
      await adv.stop('SIGTERM');
    }
  });

  it('SIGTERM drains and exits 0', async () => {
    assert.equal(await ua?.stop('SIGTERM'), 0);
  });

  async function metric(name: string, reason: string): Promise<number> {
    const body = (await ua?.http('/metrics'))?.body ?? '';
    const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`reason="${reason}"`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  }
});
