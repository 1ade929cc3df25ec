/**
 * A SIP user agent over WebSocket (RFC 7118) for tests: a `ws` client offering the `sip`
 * subprotocol, one SIP message per WebSocket message, with `.invalid` Via and Contact hosts
 * (RFC 7118 §5.2: the client has no reachable address; requests reach it on its connection).
 * It keeps every message it received (parsed) for assertions, registers with digest
 * authentication (MD5, qop=auth), answers requests and sends in-dialog requests on the
 * connection. Enough of a UA for the tests; no retransmission (WebSocket is reliable, RFC 3261
 * §17.1.1.2), no transaction matching beyond what each call waits for.
 */
import { randomBytes } from 'node:crypto';
import { createResponse, parseMessage, serializeMessage, type SipMessage, type SipRequest, type SipResponse } from '@sipnats/sip-codec';
import WebSocket from 'ws';
import { digestAuthorization } from './ua-process.js';

/** One message the client received, parsed, with its text. */
export interface WsReceived {
  readonly text: string;
  readonly msg: SipMessage;
}

/** What a UAS needs to send requests in a dialog it accepted (RFC 3261 §12.1.1). */
export interface WsDialog {
  readonly callId: string;
  /** The peer's From (name-addr with its tag): our To in requests we send. */
  readonly remote: string;
  /** Our To with our tag: our From in requests we send. */
  readonly local: string;
  /** The peer's Contact URI: the Request-URI of our requests. */
  readonly target: string;
  /** Record-Route of the INVITE in order: our Route set as the UAS. */
  readonly routes: readonly string[];
  cseq: number;
}

export interface WsSipClient {
  readonly ws: WebSocket;
  /** Host of our Via and Contact (`<random>.invalid`). */
  readonly host: string;
  /** `ws` or `wss` (the Via transport in upper case, the Contact transport parameter). */
  readonly transport: 'ws' | 'wss';
  /** Every message received, in order. */
  readonly received: readonly WsReceived[];
  /** Unparseable text frames received (should stay empty). */
  readonly garbage: readonly string[];
  send(msg: string | SipMessage): void;
  /** The first received message (from index `from`) matching `match`, waiting up to `ms`. */
  waitFor(match: (m: WsReceived) => boolean, what: string, ms?: number, from?: number): Promise<WsReceived>;
  /** Our Contact value (`<sip:user@host.invalid;transport=ws>`). */
  contact(user: string): string;
  /** A new Via value for a request we send. */
  via(): string;
  close(): Promise<void>;
}

/** Messages kept at most (a test exchanges a few dozen). */
const MAX_RECEIVED = 2000;

const token = (n = 8): string => randomBytes(n).toString('hex');

/**
 * Connects to a transport's WebSocket listener. `host` keeps the `.invalid` host of an earlier
 * connection: a client that reconnects and registers the same Contact again (as browser clients do).
 */
export async function connectWsSip(url: string, o: { transport?: 'ws' | 'wss'; ca?: Buffer; host?: string } = {}): Promise<WsSipClient> {
  const ws = new WebSocket(url, 'sip', o.ca === undefined ? {} : { ca: o.ca });
  const received: WsReceived[] = [];
  const garbage: string[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    if (received.length >= MAX_RECEIVED) return; // a runaway peer: the waits time out and say so
    try {
      received.push({ text, msg: parseMessage(data, { transport: 'stream' }) });
    } catch {
      if (garbage.push(text) > 100) garbage.shift();
    }
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  // Later socket errors (a reset) end the connection; the waits then time out saying so.
  let failure: string | undefined;
  ws.on('error', (err) => {
    failure = err.message;
  });
  if (ws.protocol !== 'sip') {
    ws.terminate();
    throw new Error(`WebSocket subprotocol "${ws.protocol}" is not sip (RFC 7118 §4)`);
  }
  const host = o.host ?? `${token(6)}.invalid`;
  const transport = o.transport ?? 'ws';
  return {
    ws,
    host,
    transport,
    received,
    garbage,
    send(msg) {
      ws.send(typeof msg === 'string' ? msg : Buffer.from(serializeMessage(msg)).toString('utf8'));
    },
    waitFor(match, what, ms = 8000, from = 0) {
      const find = (): WsReceived | undefined => received.slice(from).find(match);
      const now = find();
      if (now !== undefined) return Promise.resolve(now);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = find();
          if (m === undefined) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          const state = failure === undefined ? '' : ` (socket error: ${failure})`;
          reject(new Error(`WebSocket SIP client: timed out waiting for ${what}${state}; received:\n${received.map((r) => r.text.split('\r\n')[0]).join('\n')}`));
        }, ms);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    contact: (user) => `<sip:${user}@${host};transport=${transport}>`,
    via: () => `SIP/2.0/${transport.toUpperCase()} ${host};branch=z9hG4bK-${token()};rport`,
    close() {
      if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      });
    },
  };
}

/** The Contact URIs of the bindings a REGISTER query lists for `aor` (a fresh connection asks). */
export async function bindingsOf(url: string, o: { aor: string; user: string; password: string }): Promise<string[]> {
  const c = await connectWsSip(url);
  try {
    return (await registerWs(c, { ...o, query: true })).contacts.map((ct) => ct.uri.raw);
  } finally {
    await c.close();
  }
}

/** Whether a received message is a request with this method (and Call-ID, when given). */
export function isRequest(method: string, callId?: string): (m: WsReceived) => boolean {
  return (m) => m.msg.kind === 'request' && m.msg.method === method && (callId === undefined || m.msg.callId === callId);
}

/** Whether a received message is a response to this method with this status (and Call-ID). */
export function isResponse(method: string, status: number, callId?: string): (m: WsReceived) => boolean {
  return (m) => m.msg.kind === 'response' && m.msg.status === status && m.msg.cseq.method === method && (callId === undefined || m.msg.callId === callId);
}

/**
 * REGISTER `aor` (a `sip:user@domain` URI) for `expires` seconds: the first attempt is challenged
 * with 401, the second carries the digest answer (MD5 qop=auth) and must get 200. Returns the 200.
 * `query`: no Contact (RFC 3261 §10.2.3): the 200 lists the AoR's current bindings.
 */
export async function registerWs(
  c: WsSipClient,
  o: { aor: string; user: string; password: string; expires?: number; outbound?: { instance: string; regId: number }; query?: boolean },
): Promise<SipResponse> {
  const domain = o.aor.replace(/^sips?:[^@]*@/, '');
  const uri = `sip:${domain}`;
  const callId = `ws-reg-${token()}`;
  const fromTag = token(4);
  const register = (cseq: number, auth?: string): string =>
    [
      `REGISTER ${uri} SIP/2.0`,
      `Via: ${c.via()}`,
      'Max-Forwards: 70',
      `From: <${o.aor}>;tag=${fromTag}`,
      `To: <${o.aor}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      // RFC 5626 §4.2 as browser clients send it: Contact with +sip.instance and reg-id, outbound and path supported.
      ...(o.query === true ? [] : [`Contact: ${c.contact(o.user)}${o.outbound === undefined ? '' : `;reg-id=${o.outbound.regId};+sip.instance="${o.outbound.instance}"`};expires=${o.expires ?? 300}`]),
      ...(o.outbound === undefined ? [] : ['Supported: path, outbound, gruu']),
      ...(auth === undefined ? [] : [`Authorization: ${auth}`]),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  c.send(register(1));
  const first = await c.waitFor((m) => m.msg.kind === 'response' && m.msg.callId === callId && m.msg.cseq.seq === 1 && m.msg.status >= 200, 'the answer to REGISTER (CSeq 1)');
  const r1 = first.msg as SipResponse;
  if (r1.status !== 401) throw new Error(`REGISTER without credentials got ${r1.status}, not 401:\n${first.text}`);
  const challenge = r1.wwwAuthenticate.find((a) => a.scheme.toLowerCase() === 'digest' && (a.params.get('algorithm') ?? 'MD5').toUpperCase() === 'MD5');
  if (challenge === undefined) throw new Error(`no MD5 digest challenge in:\n${first.text}`);
  c.send(register(2, digestAuthorization(challenge.raw, { user: o.user, password: o.password, method: 'REGISTER', uri, nc: 1, cnonce: token(4) })));
  const second = await c.waitFor((m) => m.msg.kind === 'response' && m.msg.callId === callId && m.msg.cseq.seq === 2 && m.msg.status >= 200, 'the answer to REGISTER (CSeq 2)');
  const r2 = second.msg as SipResponse;
  if (r2.status !== 200) throw new Error(`REGISTER with credentials got ${r2.status}:\n${second.text}`);
  return r2;
}

/**
 * Answers `req` on the connection. A response to INVITE other than 100 gets our To tag, and a
 * 1xx/2xx to INVITE also the Record-Route copied and our Contact (RFC 3261 §12.1.1).
 */
export function respondWs(c: WsSipClient, req: SipRequest, status: number, o: { toTag?: string; user?: string; sdp?: string } = {}): SipResponse {
  const invite = req.method === 'INVITE' && status > 100 && status < 300;
  const res = createResponse(req, status, undefined, {
    ...(o.toTag === undefined || status === 100 ? {} : { toTag: o.toTag }),
    copyRecordRoute: invite,
    ...(invite ? { headers: [['Contact', c.contact(o.user ?? 'ws')]] } : {}),
    ...(o.sdp === undefined ? {} : { body: o.sdp, contentType: 'application/sdp' }),
  });
  c.send(res);
  return res;
}

/** The dialog a UAS accepted by answering `invite` with `toTag`. */
export function acceptedDialog(invite: SipRequest, toTag: string): WsDialog {
  const contact = invite.contacts[0];
  if (contact === undefined) throw new Error('the INVITE has no Contact');
  return {
    callId: invite.callId,
    remote: invite.getHeader('From') ?? '',
    local: `${invite.getHeader('To') ?? ''};tag=${toTag}`,
    target: contact.uri.raw,
    routes: invite.getHeaderValues('Record-Route'),
    cseq: 1,
  };
}

/** Sends an in-dialog request (RFC 3261 §12.2.1.1: loose routing, the route set as Route). */
export function sendInDialog(c: WsSipClient, d: WsDialog, method: string): string {
  d.cseq += 1;
  c.send(
    [
      `${method} ${d.target} SIP/2.0`,
      `Via: ${c.via()}`,
      'Max-Forwards: 70',
      ...d.routes.map((r) => `Route: ${r}`),
      `From: ${d.local}`,
      `To: ${d.remote}`,
      `Call-ID: ${d.callId}`,
      `CSeq: ${d.cseq} ${method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  return `${d.cseq} ${method}`;
}
