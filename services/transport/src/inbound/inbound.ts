/**
 * The inbound path: every framed message from a listener ends here. Parse (or take the framer's
 * result), answer what cannot be parsed, stamp the top Via (RFC 3581), check our own Route
 * entry, run the transaction layer, and publish what the ua must see — or shed it with 503
 * when NATS cannot take it. Nothing here awaits: the socket loop never waits on NATS.
 */
import { encodeJsonTrusted, ForwardedMessage, toBase64, ENVELOPE_VERSION, type FlowRef } from '@sipnats/contracts';
import { createResponse, parseMessage, serializeMessage, SipParseError, type ParseOptions, type SipRequest, type SipResponse } from '@sipnats/sip-codec';
import { randomBytes } from 'node:crypto';
import type { Context } from '../context.js';
import { formatHostPort } from '../listeners/address.js';
import type { Flow, Preparsed } from '../listeners/flow.js';
import { MessageCounter, statusClass } from '../ops/metrics.js';
import { requestEnvelopeFault, type EnvelopeFault } from '../publish/envelope-limits.js';
import { encodeRequestEnvelope, flowRef } from '../publish/envelopes.js';
import { Priority } from '../publish/publisher.js';
import { FLOW_PARAM, flowRouteHeader } from '../routing/flow-uri.js';
import { TokenFault } from '../routing/token.js';
import { methodLabel } from '../sender.js';
import type { ServerTxnHandle } from '../txn/index.js';
import { LogLimiter } from './log-limiter.js';
import { buildResponse, pickResponseHeaders } from './minimal-response.js';
import { stampTopVia } from './via-received.js';

/** Requests refused while draining: they would start something new (dialogs, registrations). */
const NEW_WORK = new Set(['INVITE', 'REGISTER', 'SUBSCRIBE', 'REFER', 'MESSAGE', 'OPTIONS', 'PUBLISH']);
/** Requests that create a dialog: the transport records its route with a flow token. */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

function isBlank(data: Uint8Array): boolean {
  for (const b of data) if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09 && b !== 0x00) return false;
  return true;
}

/** Flow tokens are deterministic per flow; this many are kept to spare an HMAC per request. */
const TOKEN_CACHE = 4096;

export class Inbound {
  readonly #ctx: Context;
  readonly #logLimiter: LogLimiter;
  readonly #tokens = new Map<string, string>();
  /** Built once: parsing runs for every datagram. */
  readonly #parseOptions: ParseOptions;
  readonly #messagesIn: MessageCounter;
  /** FlowRef (with its token) per flow id, same bound as the tokens; FlowRefs are never mutated. */
  readonly #flowRefs = new Map<string, FlowRef>();

  constructor(ctx: Context, logWindowMs: number) {
    this.#ctx = ctx;
    this.#logLimiter = new LogLimiter(logWindowMs);
    this.#parseOptions = { ...ctx.limits, transport: 'datagram' };
    this.#messagesIn = new MessageCounter(ctx.metrics.messagesIn);
  }

  /** Listener entry point (InboundHandler). */
  readonly handle = (data: Uint8Array, flow: Flow, at: number, pre?: Preparsed): void => {
    try {
      this.#handle(data, flow, at, pre);
    } catch (err) {
      // A bug must not take the socket loop down; it is counted as a parse error and logged once
      // per peer and window (a peer that triggers it could otherwise flood the log).
      this.#ctx.metrics.parseErrors.inc({ code: 'INTERNAL', kind: 'unknown' });
      if (this.#gate(`${flow.remote.host}|INTERNAL`)) this.#ctx.log.error({ err, peer: formatHostPort(flow.remote), flow: flow.id }, 'inbound message handling failed');
    }
  };

  #handle(data: Uint8Array, flow: Flow, at: number, pre: Preparsed | undefined): void {
    if (pre === undefined && isBlank(data)) return; // keep-alive on a datagram or WebSocket
    this.#ctx.sender.tapIn(data, flow, at);
    let msg;
    if (pre === undefined) {
      try {
        msg = parseMessage(data, this.#parseOptions);
      } catch (err) {
        if (!(err instanceof SipParseError)) throw err;
        this.parseError(err, data, flow);
        return;
      }
    } else if ('error' in pre) {
      this.parseError(pre.error, data, flow);
      return;
    } else {
      msg = pre.message;
    }
    this.#messagesIn.inc(flow.transport, msg.kind, msg.kind === 'request' ? methodLabel(msg.method) : '', msg.kind === 'response' ? statusClass(msg.status) : '');
    if (msg.kind === 'request') this.#request(msg, flow, at);
    else this.response(msg, data, flow, at, false);
  }

  /** Counts, logs (once per peer and window) and answers a message that failed to parse. */
  parseError(err: SipParseError, data: Uint8Array, flow: Flow): void {
    this.#ctx.metrics.parseErrors.inc({ code: err.code, kind: err.messageKind ?? 'unknown' });
    const peer = formatHostPort(flow.remote);
    if (this.#gate(`${flow.remote.host}|${err.code}`)) this.#ctx.log.warn({ peer, transport: flow.transport, code: err.code, offset: err.offset, bytes: data.length }, `unparseable SIP message: ${err.message}`);
    const answer = err.answer;
    if (answer === 'drop') return;
    const headers = pickResponseHeaders(data);
    if (headers === undefined) return;
    const reason = answer === 505 ? 'Version Not Supported' : 'Bad Request';
    this.#ctx.sender.send(buildResponse(answer, reason, headers, randomBytes(6).toString('hex')), flow);
  }

  /** True when a log line for `key` (peer and kind) is due in this window. */
  #gate(key: string): boolean {
    const gate = this.#logLimiter.allow(key);
    if (gate.suppressedBefore > 0) this.#ctx.log.warn({ suppressed: gate.suppressedBefore }, 'per-peer log lines suppressed in the previous window');
    return gate.log;
  }

  /**
   * A request the envelope cannot carry (a field beyond the limits of RequestEnvelope): counted,
   * logged once per peer and window, and answered by the caller with the fault's status.
   */
  #unfit(req: SipRequest, flow: Flow, fault: EnvelopeFault): void {
    this.#ctx.metrics.dropped.inc({ reason: 'request-too-large-for-envelope' });
    if (this.#gate(`${flow.remote.host}|ENVELOPE`)) {
      this.#ctx.log.warn({ peer: formatHostPort(flow.remote), method: methodLabel(req.method), status: fault.status, problem: fault.detail }, 'request refused: it does not fit the request envelope');
    }
  }

  #request(req: SipRequest, flow: Flow, at: number): void {
    const ctx = this.#ctx;
    stampTopVia(req, flow.remote);
    if (!this.#popOwnRoute(req, flow)) return;

    const result = ctx.txns.receiveRequest(req, flow);
    switch (result.kind) {
      case 'retransmission':
        return;
      case 'invalid':
        this.#stateless(req, flow, 400, 'Bad Request');
        return;
      case 'overload':
        ctx.metrics.shed.inc({ reason: 'overload', method: methodLabel(req.method) });
        this.#stateless(req, flow, 503, 'Service Unavailable', [['Retry-After', String(ctx.retryAfter)]]);
        return;
      case 'ack': {
        if (result.matched === 'non2xx') return;
        const fault = requestEnvelopeFault(req);
        if (fault === undefined) this.#publish(req, flow, at, undefined, undefined);
        else this.#unfit(req, flow, fault); // an ACK is never answered
        return;
      }
      case 'cancel':
        this.#cancel(req, flow, at, result.txn, result.invite);
        return;
      case 'new':
        this.#newRequest(req, flow, at, result.txn);
        return;
    }
  }

  #newRequest(req: SipRequest, flow: Flow, at: number, txn: ServerTxnHandle): void {
    const ctx = this.#ctx;
    const fault = requestEnvelopeFault(req);
    if (fault !== undefined) {
      // Answered through the transaction: retransmissions get the same final response.
      this.#unfit(req, flow, fault);
      this.#respond(txn, req, fault.status, fault.reason, [['Warning', `399 sipnats "${fault.detail}"`]]);
      return;
    }
    const initial = req.to.tag === undefined;
    const shedReason = ctx.draining() && initial && NEW_WORK.has(req.method) ? 'draining' : !ctx.publisher.accepting ? (ctx.publisher.size > 0 ? 'queue-full' : 'nats-down') : undefined;
    if (shedReason !== undefined) {
      this.#shed(req, txn, shedReason);
      return;
    }
    if (initial && DIALOG_CREATING.has(req.method)) req.addHeader('Record-Route', this.#flowRoute(flow), true);
    if (req.method === 'REGISTER') req.addHeader('Path', this.#flowRoute(flow), true);
    if (this.#publish(req, flow, at, txn.id, undefined)) ctx.pending.add(txn.id);
    else this.#shed(req, txn, ctx.publisher.size > 0 ? 'queue-full' : 'nats-down');
  }

  #cancel(req: SipRequest, flow: Flow, at: number, txn: ServerTxnHandle, invite: ServerTxnHandle | undefined): void {
    const ctx = this.#ctx;
    if (invite === undefined) {
      this.#respond(txn, req, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    const fault = requestEnvelopeFault(req);
    if (fault !== undefined) {
      this.#unfit(req, flow, fault);
      this.#respond(txn, req, fault.status, fault.reason, [['Warning', `399 sipnats "${fault.detail}"`]]);
      return;
    }
    this.#respond(txn, req, 200, 'OK');
    if (invite.state !== 'proceeding') return;
    if (!this.#publish(req, flow, at, txn.id, invite.id)) {
      // Nobody can hear the CANCEL: end the INVITE here (RFC 3261 §9.2) rather than leave it hanging.
      const inviteReq = invite.request as SipRequest;
      ctx.metrics.shed.inc({ reason: 'nats-down', method: 'CANCEL' });
      this.#respond(invite, inviteReq, 487, 'Request Terminated');
    }
  }

  #shed(req: SipRequest, txn: ServerTxnHandle, reason: string): void {
    this.#ctx.metrics.shed.inc({ reason, method: methodLabel(req.method) });
    if (req.method === 'ACK') return;
    this.#respond(txn, req, 503, 'Service Unavailable', [['Retry-After', String(this.#ctx.retryAfter)]]);
  }

  #respond(txn: ServerTxnHandle, req: SipRequest, status: number, reason: string, headers: Array<[string, string]> = []): void {
    const res = createResponse(req, status, reason, { toTag: randomBytes(6).toString('hex'), headers });
    if (this.#ctx.txns.respond(txn.id, res, serializeMessage(res)) === 'sent' && status >= 200) this.#ctx.pending.delete(txn.id);
  }

  #stateless(req: SipRequest, flow: Flow, status: number, reason: string, headers: Array<[string, string]> = []): void {
    const res = createResponse(req, status, reason, { toTag: randomBytes(6).toString('hex'), headers });
    this.#ctx.sender.send(serializeMessage(res), flow);
  }

  #publish(req: SipRequest, flow: Flow, at: number, txn: string | undefined, cancels: string | undefined): boolean {
    const ctx = this.#ctx;
    const raw = serializeMessage(req);
    // requestEnvelopeFault(req) passed: the envelope matches its schema (test/envelopes.test.ts).
    const data = encodeRequestEnvelope({ instance: ctx.instance, flow: this.#flowRef(flow), txn, cancels, receivedAt: at, request: req, raw });
    const subject = ctx.subjects.req(req.method);
    const queued = ctx.publisher.offer(subject, data, Priority.high);
    if (queued && txn !== undefined && cancels === undefined) ctx.republisher?.track(txn, subject, req.method, data); // inbound/republish.ts
    return queued;
  }

  #token(flow: Flow): string {
    let token = this.#tokens.get(flow.id);
    if (token === undefined) {
      token = this.#ctx.tokens.flowToken({ instance: this.#ctx.instance, flow: flow.id });
      if (this.#tokens.size >= TOKEN_CACHE) this.#tokens.clear(); // bounded: keyed by remote addresses
      this.#tokens.set(flow.id, token);
    }
    return token;
  }

  #flowRef(flow: Flow): FlowRef {
    let ref = this.#flowRefs.get(flow.id);
    if (ref === undefined) {
      ref = flowRef(this.#ctx.instance, flow, this.#token(flow));
      if (this.#flowRefs.size >= TOKEN_CACHE) this.#flowRefs.clear();
      this.#flowRefs.set(flow.id, ref);
    }
    return ref;
  }

  #flowRoute(flow: Flow): string {
    return flowRouteHeader(flow.listener.advertised, flow.transport, this.#token(flow));
  }

  /**
   * A request whose top Route carries our flow token (it came back through the Record-Route or
   * Path we wrote): verify the token and remove that entry (RFC 3261 §16.4). A forged or broken
   * token is refused with 403. Returns false when the request was answered here.
   */
  #popOwnRoute(req: SipRequest, flow: Flow): boolean {
    const top = req.route[0];
    if (top === undefined || !top.uri.params.has(FLOW_PARAM)) return true;
    const check = this.#ctx.tokens.verifyFlowToken(top.uri.params.get(FLOW_PARAM));
    if (!check.ok) {
      this.#ctx.metrics.refusedTokens.inc({ where: 'route', fault: check.fault });
      this.#ctx.log.warn({ peer: formatHostPort(flow.remote), fault: check.fault }, 'request with a refused flow token in Route');
      if (req.method !== 'ACK') this.#stateless(req, flow, 403, 'Forbidden');
      return false;
    }
    const rest = req.getHeaderValues('Route').slice(1);
    if (rest.length === 0) req.removeHeader('Route');
    else req.setHeader('Route', rest.join(', '));
    return true;
  }

  /**
   * A response from the wire (or forwarded by another instance when `forwarded`). Its top Via
   * branch names the instance that owns the client transaction; another instance's response is
   * forwarded there, a forged branch is refused.
   */
  response(res: SipResponse, data: Uint8Array, flow: Flow, at: number, forwarded: boolean): void {
    const ctx = this.#ctx;
    const check = ctx.tokens.verifyBranch(res.topVia.branch);
    if (!check.ok) {
      if (check.fault !== TokenFault.foreign) {
        ctx.metrics.refusedTokens.inc({ where: 'branch', fault: check.fault });
        ctx.log.warn({ peer: formatHostPort(flow.remote), fault: check.fault }, 'response with a refused branch token dropped');
      } else {
        ctx.metrics.dropped.inc({ reason: 'unmatched-response' });
      }
      return;
    }
    if (check.owner.instance !== ctx.instance) {
      if (forwarded) return; // never forward twice
      const fwd = {
        v: ENVELOPE_VERSION,
        from: ctx.instance,
        flow: flowRef(ctx.instance, flow),
        receivedAt: at,
        raw: toBase64(data),
      } as const;
      if (ctx.publisher.offer(ctx.subjects.fwd(check.owner.instance), encodeJsonTrusted(ForwardedMessage, fwd), Priority.high)) {
        ctx.metrics.forwarded.inc({ direction: 'out', kind: 'response' });
      }
      return;
    }
    const r = ctx.txns.receiveResponse(res, flow);
    if (r.kind === 'unmatched') ctx.metrics.dropped.inc({ reason: 'unmatched-response' });
  }
}
