/**
 * The ua as a running process against a private nats-server: request envelopes (built from real
 * SIP text) published on `sip.req.*`, what the ua publishes on `sip.out.*` and `sip.evt.*` read
 * back, commands over `sip.cmd.call.*`; two instances with one killed mid-call.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson, encodeJson, fromBase64, OutMessage, RegEvent, RequestEnvelope } from '@sipnats/contracts';
import { parseMessage, type SipResponse } from '@sipnats/sip-codec';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { digestAuthorization, envelopeOf, sipText, startUa, type UaProcess } from '../support/ua-process.js';

const SDP = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

interface Dlg {
  callId: string;
  fromTag: string;
  toTag?: string | undefined;
}

function req(method: string, d: Dlg, cseq: number, body?: string): Buffer {
  return sipText(
    [
      `${method} sip:bob@127.0.0.1:5060 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-${method}-${cseq}-${d.callId}`,
      'Max-Forwards: 70',
      `From: <sip:alice@127.0.0.1>;tag=${d.fromTag}`,
      `To: <sip:bob@127.0.0.1>${d.toTag === undefined ? '' : `;tag=${d.toTag}`}`,
      `Call-ID: ${d.callId}`,
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:alice@127.0.0.1:5070>',
      'X-Trace: it',
      ...(body === undefined ? [] : ['Content-Type: application/sdp']),
    ],
    body ?? '',
  );
}

function register(cseq: number, auth?: string): Buffer {
  return sipText([
    'REGISTER sip:test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-reg-${cseq}`,
    'Max-Forwards: 70',
    'From: <sip:alice@test>;tag=r1',
    'To: <sip:alice@test>',
    'Call-ID: it-reg-1',
    `CSeq: ${cseq} REGISTER`,
    'Contact: <sip:alice@127.0.0.1:5070>',
    'Expires: 600',
    ...(auth === undefined ? [] : [`Authorization: ${auth}`]),
  ]);
}

/** Collects messages of a subscription; `next` waits for the next one matching. */
class Inbox<T> {
  readonly items: T[] = [];
  #waiters: { match: (t: T) => boolean; resolve: (t: T) => void }[] = [];
  #taken = 0;

  constructor(nc: NatsConnection, subject: string, decode: (d: Uint8Array) => T | undefined) {
    const sub: Subscription = nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) {
        const v = decode(m.data);
        if (v === undefined) continue;
        this.items.push(v);
        this.#waiters = this.#waiters.filter((w) => (w.match(v) ? (w.resolve(v), false) : true));
      }
    })();
  }

  next(match: (t: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
    const found = this.items.slice(this.#taken).find(match);
    if (found !== undefined) {
      this.#taken = this.items.indexOf(found) + 1;
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (t) => {
          clearTimeout(timer);
          this.#taken = this.items.indexOf(t) + 1;
          resolve(t);
        },
      });
    });
  }
}

interface Out {
  out: OutMessage;
  msg: SipResponse | undefined;
}

describe('ua service over NATS (real nats-server, real ua processes)', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  let nc: NatsConnection;
  let dir: string;
  const uas: UaProcess[] = [];
  let outs: Inbox<Out>;
  let calls: Inbox<CallEvent>;
  let regs: Inbox<RegEvent>;

  before(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'sipnats-ua-it-'));
    writeFileSync(join(dir, 'users.json'), JSON.stringify({ users: [{ username: 'alice', realm: 'test', password: 'secret' }] }));
    const env = { SIPNATS_REALM: 'test', SIPNATS_USERS_FILE: join(dir, 'users.json'), SIPNATS_ANSWER_TIMEOUT: '1500ms', SIPNATS_SWEEP_INTERVAL: '200ms' };
    uas.push(await startUa({ natsUrl: nats.url, instance: 'ua-a', env }));
    uas.push(await startUa({ natsUrl: nats.url, instance: 'ua-b', env }));
    nc = await connect({ servers: nats.url });
    outs = new Inbox(nc, 'sip.out.>', (d) => {
      const r = decodeJson(OutMessage, d);
      if (!r.ok) return undefined;
      const m = r.value.kind === 'response' ? (parseMessage(fromBase64(r.value.raw)) as SipResponse) : undefined;
      return { out: r.value, msg: m };
    });
    calls = new Inbox(nc, 'sip.evt.call.*', (d) => {
      const r = decodeJson(CallEvent, d);
      return r.ok ? r.value : undefined;
    });
    regs = new Inbox(nc, 'sip.evt.reg.*', (d) => {
      const r = decodeJson(RegEvent, d);
      return r.ok ? r.value : undefined;
    });
    await nc.flush();
  });

  after(async () => {
    await nc?.close();
    for (const u of uas) await u.stop('SIGKILL');
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (raw: Buffer, o: Parameters<typeof envelopeOf>[1] = {}): RequestEnvelope => {
    const env = envelopeOf(raw, o);
    nc.publish(`sip.req.${env.method}`, encodeJson(RequestEnvelope, env));
    return env;
  };
  const response = (txn: string | undefined, status?: number): Promise<Out> =>
    outs.next((o) => o.out.kind === 'response' && o.out.txn === txn && (status === undefined || o.msg?.status === status));
  const command = async (action: string, payload: unknown): Promise<CommandReply> => {
    const m = await nc.request(`sip.cmd.call.${action}`, Buffer.from(JSON.stringify(payload)), { timeout: 5000 });
    const r = decodeJson(CommandReply, m.data);
    assert.ok(r.ok);
    return r.value;
  };
  const offer = async (d: Dlg): Promise<{ call: string; txn: string }> => {
    const env = send(req('INVITE', d, 1, SDP));
    const ev = await calls.next((e) => e.event === 'offer' && e.sipCallId === d.callId);
    assert.equal(ev.headers?.['X-Trace'], 'it');
    assert.equal(ev.sdp, SDP);
    return { call: ev.call, txn: env.txn ?? '' };
  };

  it('OPTIONS → 200 with Allow', async () => {
    const env = send(req('OPTIONS', { callId: 'it-opt', fromTag: 'o' }, 1));
    const r = await response(env.txn);
    assert.equal(r.msg?.status, 200);
    assert.match(r.msg?.getHeader('Allow') ?? '', /INVITE/);
  });

  it('REGISTER: 401 challenge, 200 with digest + registered event, replay challenged again, wrong password 403', async () => {
    const c = await response(send(register(1)).txn, 401);
    const challenge = c.msg?.getHeaders('WWW-Authenticate').find((h) => h.includes('MD5')) ?? '';
    const auth = (password: string, nc: number): string => digestAuthorization(challenge, { user: 'alice', password, method: 'REGISTER', uri: 'sip:test', nc });
    await response(send(register(2, auth('secret', 1))).txn, 200);
    const ev = await regs.next((e) => e.event === 'registered');
    assert.equal(ev.aor, 'sip:alice@test');
    await response(send(register(3, auth('secret', 1))).txn, 401);
    await response(send(register(4, auth('wrong', 2))).txn, 403);
  });

  it('INVITE → offer → ring → answer → ACK → BYE → ended', async () => {
    const d: Dlg = { callId: 'it-call-1', fromTag: 'c1' };
    const { call, txn } = await offer(d);
    assert.equal((await command('ring', { v: 1, call, action: 'ring' })).status, 180);
    await response(txn, 180);
    assert.equal((await command('answer', { v: 1, call, action: 'answer', sdp: SDP })).ok, true);
    const ok = await response(txn, 200);
    assert.equal(ok.out.retransmit2xx, true);
    d.toTag = ok.msg?.to.tag;
    send(req('ACK', d, 1), { txn: null });
    await calls.next((e) => e.event === 'confirmed' && e.call === call);
    const bye = send(req('BYE', d, 2));
    await response(bye.txn, 200);
    const ended = await calls.next((e) => e.event === 'ended' && e.call === call);
    assert.equal(ended.cause, 'NORMAL_CLEARING');
  });

  it('reject 486; then a competing answer gets CONFLICT; invalid command INVALID; unknown call NOT_FOUND', async () => {
    const { call, txn } = await offer({ callId: 'it-call-2', fromTag: 'c2' });
    assert.equal((await command('reject', { v: 1, call, action: 'reject', status: 486 })).ok, true);
    await response(txn, 486);
    const late = await command('answer', { v: 1, call, action: 'answer', sdp: SDP });
    assert.ok(late.code === 'CONFLICT' || late.code === 'BAD_STATE');
    const invalid = await command('answer', { v: 1, call, action: 'answer' });
    assert.equal(invalid.code, 'INVALID');
    assert.match(invalid.error ?? '', /sdp/);
    assert.equal((await command('hangup', { v: 1, call: 'no-such-call', action: 'hangup' })).code, 'NOT_FOUND');
  });

  it('two controllers answer at once: exactly one wins', async () => {
    const { call } = await offer({ callId: 'it-call-race', fromTag: 'cr' });
    const replies = await Promise.all([
      command('answer', { v: 1, call, action: 'answer', sdp: SDP }),
      command('answer', { v: 1, call, action: 'answer', sdp: SDP }),
    ]);
    assert.equal(replies.filter((r) => r.ok).length, 1);
    assert.equal(replies.filter((r) => r.code === 'CONFLICT').length, 1);
  });

  it('CANCEL → 487 on the INVITE and a cancelled event', async () => {
    const d: Dlg = { callId: 'it-call-3', fromTag: 'c3' };
    const { call, txn } = await offer(d);
    send(req('CANCEL', d, 1), { cancels: txn });
    await response(txn, 487);
    await calls.next((e) => e.event === 'cancelled' && e.call === call);
  });

  it('no controller: 480 after SIPNATS_ANSWER_TIMEOUT', async () => {
    const started = Date.now();
    const { call, txn } = await offer({ callId: 'it-call-4', fromTag: 'c4' });
    await response(txn, 480);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400 && elapsed < 4000, `480 after ${elapsed} ms`);
    const failed = await calls.next((e) => e.event === 'failed' && e.call === call);
    assert.equal(failed.cause, 'NO_ANSWER');
  });

  it('an instance killed between 200 and BYE: the other answers the BYE, ended published once', async () => {
    const d: Dlg = { callId: 'it-call-5', fromTag: 'c5' };
    const { call, txn } = await offer(d);
    await command('answer', { v: 1, call, action: 'answer', sdp: SDP });
    const ok = await response(txn, 200);
    d.toTag = ok.msg?.to.tag;
    send(req('ACK', d, 1), { txn: null });
    await calls.next((e) => e.event === 'confirmed' && e.call === call);
    const victim = uas.shift();
    await victim?.stop('SIGKILL');
    const bye = send(req('BYE', d, 2));
    await response(bye.txn, 200);
    await calls.next((e) => e.event === 'ended' && e.call === call);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(calls.items.filter((e) => e.event === 'ended' && e.call === call).length, 1);
  });
});
