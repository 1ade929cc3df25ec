/**
 * Security: HMAC-checked routing tokens at process level. The flow token a transport puts into
 * Record-Route/Path (and into FlowRef.token) is followed only when its HMAC verifies under the
 * transport's SIPNATS_SECRET: a request from the wire whose top Route carries a tampered token,
 * or a token minted by a transport with another secret, gets 403 and is never published; a ua
 * request routed by such a token is refused with a local 403. (A tampered Via branch on a
 * response is covered by transport-edges.test.ts.)
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson, OutMessage, RequestEnvelope, ResponseEnvelope, toBase64 } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startTransport, type TransportProcess } from '../support/transport-process.js';

const FLOW_PARAM = 'sn-flow';

describe('security: forged routing tokens are refused by the running transport', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;
  let a: TransportProcess | undefined;
  let b: TransportProcess | undefined;
  let nc: NatsConnection | undefined;
  let peer: Socket | undefined;
  const published: RequestEnvelope[] = [];
  const answers: string[] = [];

  const peerPort = (): number => peer?.address().port ?? 0;
  const sendTo = (t: TransportProcess, text: string): void => {
    peer?.send(Buffer.from(text, 'latin1'), t.ports['udp'] as number, '127.0.0.1');
  };
  const request = (method: string, callId: string, extra: readonly string[], toTag?: string): string =>
    [
      `${method} sip:svc@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peerPort()};branch=z9hG4bK-rt-${callId}-${method};rport`,
      'Max-Forwards: 70',
      'From: <sip:peer@127.0.0.1>;tag=pf',
      `To: <sip:svc@127.0.0.1>${toTag === undefined ? '' : `;tag=${toTag}`}`,
      `Call-ID: ${callId}`,
      `CSeq: ${method === 'INVITE' ? 1 : 2} ${method}`,
      `Contact: <sip:peer@127.0.0.1:${peerPort()}>`,
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  const waitFor = async <T>(what: string, get: () => T | undefined, timeoutMs = 5000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  /** The flow token a transport issues for the peer's UDP flow (from its INVITE's envelope). */
  const tokenFrom = async (t: TransportProcess, callId: string): Promise<string> => {
    sendTo(t, request('INVITE', callId, []));
    const env = await waitFor(`INVITE ${callId} on sip.req`, () => published.find((e) => e.callId === callId));
    assert.equal(env.flow.instance, t.instance);
    return await waitFor('flow token', () => env.flow.token);
  };
  const status = (callId: string, method: string): string | undefined =>
    answers.find((l) => l.includes(`\nCall-ID: ${callId}\r`) && l.includes(` ${method}\r`) && !l.startsWith('SIP/2.0 100 '))?.split('\r\n')[0];

  before(async function () {
    nats = await startNatsServer();
    a = await startTransport({ natsUrl: nats.url, instance: 'rt-a', transports: ['udp'], secret: 'routing-secret-of-the-cluster-aaaa' });
    b = await startTransport({ natsUrl: nats.url, instance: 'rt-b', transports: ['udp'], secret: 'another-cluster-secret-bbbbbbbbbbb' });
    const conn = await connect({ servers: nats.url });
    nc = conn;
    conn.subscribe('sip.req.*', {
      callback: (_e, m) => {
        const r = decodeJson(RequestEnvelope, m.data);
        if (r.ok) published.push(r.value);
      },
    });
    await conn.flush();
    const s = createSocket('udp4');
    peer = s;
    s.on('message', (m) => void answers.push(m.toString('latin1')));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  });

  after(async function () {
    peer?.close();
    await nc?.close().catch(() => undefined);
    await a?.stop('SIGKILL');
    await b?.stop('SIGKILL');
    await nats?.dispose();
  });

  it('a genuine flow token in Route is followed: the in-dialog request is published without that Route', async function () {
    assert.ok(a !== undefined);
    const token = await tokenFrom(a, 'rt-genuine');
    sendTo(a, request('BYE', 'rt-genuine', [`Route: <sip:127.0.0.1:${a.ports['udp']};lr;${FLOW_PARAM}=${token}>`], 'uas1'));
    const bye = await waitFor('BYE on sip.req', () => published.find((e) => e.callId === 'rt-genuine' && e.method === 'BYE'));
    assert.doesNotMatch(Buffer.from(bye.raw, 'base64').toString('latin1'), /^Route:/im);
  });

  it('a tampered token (instance swapped, MAC kept) and a token of a transport with another secret get 403 and are not published', async function () {
    assert.ok(a !== undefined && b !== undefined);
    const before = await a.metric('sipnats_transport_refused_tokens_total', { where: 'route', fault: 'bad-mac' });
    const genuine = await tokenFrom(a, 'rt-source');
    const [, flow, mac] = genuine.split('.') as [string, string, string];
    const tampered = ['rt-b', flow, mac].join('.');
    const foreign = await tokenFrom(b, 'rt-foreign-source');
    assert.ok(foreign.startsWith('rt-b.'), foreign);

    for (const [callId, token] of [
      ['rt-tampered', tampered],
      ['rt-foreign', foreign],
    ] as const) {
      sendTo(a, request('BYE', callId, [`Route: <sip:127.0.0.1:${a.ports['udp']};lr;${FLOW_PARAM}=${token}>`], 'uas1'));
      assert.equal(await waitFor(`answer to ${callId}`, () => status(callId, 'BYE')), 'SIP/2.0 403 Forbidden');
    }
    assert.equal(await a.metric('sipnats_transport_refused_tokens_total', { where: 'route', fault: 'bad-mac' }), before + 2);
    await nc?.flush();
    assert.deepEqual(
      published.filter((e) => e.callId === 'rt-tampered' || e.callId === 'rt-foreign').map((e) => e.method),
      [],
      'refused requests never reach the ua',
    );
    assert.ok(a.logs.some((l) => /refused flow token in Route/.test(l) && /"fault":"bad-mac"/.test(l)), a.logs.slice(-10).join('\n'));
  });

  it('a ua request whose top Route carries a forged token is not sent: the requester gets a local 403', async function () {
    assert.ok(a !== undefined && nc !== undefined);
    const forged = `rt-a.${Buffer.from(`udp0/127.0.0.1:${peerPort()}`).toString('base64url')}.AAAAAAAAAAAAAAAA`;
    const text = request('OPTIONS', 'rt-ua-forged', [`Route: <sip:127.0.0.1:${a.ports['udp']};lr;${FLOW_PARAM}=${forged}>`]);
    const reply = await nc.request('sip.out.rt-a', encodeJson(OutMessage, { v: 1, kind: 'request', raw: toBase64(Buffer.from(text, 'latin1')) }), { timeout: 5000 });
    const env = decodeJson(ResponseEnvelope, reply.data);
    assert.ok(env.ok);
    assert.equal(env.value.status, 403);
    assert.match(env.value.error ?? '', /flow token in Route refused/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(status('rt-ua-forged', 'OPTIONS'), undefined);
    assert.ok(!answers.some((m) => m.startsWith('OPTIONS ') && m.includes('rt-ua-forged')), 'nothing was sent to the peer');
  });
});
