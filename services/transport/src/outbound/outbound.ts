/**
 * The outbound path: OutMessages from `<p>.out.<instance>` and `<p>.out` (queue `transport`).
 * Responses go through their server transaction; requests get our Via (branch = routing token),
 * a Record-Route with a flow token when they create a dialog, a Contact when they lack one, and
 * then a client transaction whose responses go to the NATS reply subject (ACK and requests
 * without a reply subject are sent statelessly). A request for a flow of another instance is
 * handed to that instance; a flow that is gone gives 430 (RFC 5626 §5.3) to the requester.
 */
import { ContractError, decodeJson, encodeJson, encodeJsonTrusted, fromBase64, OutMessage, ResponseEnvelope, toBase64, type FlowRef } from '@sipnats/contracts';
import { parseMessage, serializeMessage, SipParseError, type ParseOptions, type SipRequest, type SipResponse } from '@sipnats/sip-codec';
import type { Logger } from '@sipnats/logging';
import type { Context } from '../context.js';
import { VIA_TRANSPORT, sipHost } from '../listeners/address.js';
import type { Flow } from '../listeners/flow.js';
import { responseEnvelopeFault } from '../publish/envelope-limits.js';
import { flowRef, localResponseEnvelope, responseEnvelope } from '../publish/envelopes.js';
import type { PortMessage } from '../publish/nats-port.js';
import { Priority } from '../publish/publisher.js';
import { FLOW_PARAM, flowRouteHeader } from '../routing/flow-uri.js';
import { NO_FLOW } from '../routing/token.js';
import { TxnError, type TxnResponse, type Flow as TxnFlow } from '../txn/index.js';
import { responseDestination } from '../inbound/via-received.js';
import { nextHop, NextHopError } from './next-hop.js';

const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);
/** Methods whose requests (and 1xx/2xx responses) carry a Contact (RFC 3261 §8.1.1.8, RFC 6665, RFC 3515). */
const NEEDS_CONTACT = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY', 'UPDATE']);
/**
 * OutMessages come from ua and controllers, not the network: a request may come without Via,
 * ours is its first (RFC 3261 §8.1.1.7, §18.1.1); a response still needs its Via.
 */
const OUT_PARSE: ParseOptions = { maxMessageBytes: 1_048_576, maxHeaders: 4096, maxLineBytes: 65_536, transport: 'datagram', allowMissingVia: true };

/** Branch of the top Via, undefined when there is none (a request from ua may come without Via). */
function topBranch(req: SipRequest): string | undefined {
  return req.hasHeader('Via') ? req.topVia.branch : undefined;
}

function isOurFlow(f: TxnFlow): f is Flow {
  return typeof (f as Partial<Flow>).send === 'function';
}

export class Outbound {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** Subscription handler for both out subjects. */
  readonly handle = (msg: PortMessage): void => {
    try {
      this.#handle(msg);
    } catch (err) {
      this.#ctx.metrics.dropped.inc({ reason: 'out-internal-error' });
      this.#ctx.log.error({ err, subject: msg.subject }, 'outbound message handling failed');
    }
  };

  #handle(msg: PortMessage): void {
    const ctx = this.#ctx;
    const decoded = decodeJson(OutMessage, msg.data);
    if (!decoded.ok) {
      ctx.metrics.dropped.inc({ reason: 'bad-out-message' });
      ctx.log.warn({ subject: msg.subject, problems: decoded.errors }, 'invalid OutMessage dropped');
      return;
    }
    const out = decoded.value;
    let parsed;
    try {
      parsed = parseMessage(fromBase64(out.raw), OUT_PARSE);
    } catch (err) {
      ctx.metrics.dropped.inc({ reason: 'bad-out-message' });
      ctx.log.warn({ subject: msg.subject, err: err instanceof SipParseError ? err.code : String(err) }, 'OutMessage with unparseable SIP dropped');
      return;
    }
    if (parsed.kind !== out.kind) {
      ctx.metrics.dropped.inc({ reason: 'bad-out-message' });
      ctx.log.warn({ subject: msg.subject, kind: out.kind }, 'OutMessage kind does not match its SIP message');
      return;
    }
    if (parsed.kind === 'response') {
      this.#response(parsed, out);
    } else {
      this.#request(parsed, out, msg.reply);
    }
  }

  #response(res: SipResponse, out: OutMessage): void {
    const ctx = this.#ctx;
    if (out.txn !== undefined) {
      ctx.republisher?.answered(out.txn); // a ua has the request: stop publishing it again
      // The transport sent its own 100 Trying for every INVITE at once (§17.2.1); a 100 from the
      // TU only says that a ua holds the request. It is not sent a second time.
      if (res.status === 100 && res.cseq.method === 'INVITE') return;
      const txn = ctx.txns.server(out.txn);
      if (txn !== undefined && isOurFlow(txn.flow)) this.#addContact(res, res.cseq.method, res.status, txn.flow);
      const result = ctx.txns.respond(out.txn, res, serializeMessage(res));
      if (result === 'sent') {
        if (res.status >= 200) ctx.pending.delete(out.txn);
        return;
      }
      if (result !== 'unknown-transaction' || res.cseq.method !== 'INVITE' || res.status < 200 || res.status >= 300) {
        ctx.metrics.sendFailures.inc({ reason: result });
        if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ txn: out.txn, status: res.status, result }, 'response not sent on its transaction');
        return;
      }
    }
    // Outside a transaction (a 2xx retransmitted by ua): flow when given, else the Via (§18.2.2).
    const flow = out.flow !== undefined ? ctx.listeners.flow(out.flow.id) : this.#viaFlow(res);
    if (flow === undefined) {
      ctx.metrics.sendFailures.inc({ reason: 'no-flow' });
      return;
    }
    this.#addContact(res, res.cseq.method, res.status, flow);
    ctx.sender.send(serializeMessage(res), flow);
  }

  #viaFlow(res: SipResponse): Flow | undefined {
    const via = res.topVia;
    const t = via.transport.toLowerCase();
    if (t !== 'udp') return undefined; // streams: only the original connection (out.flow) will do
    return this.#ctx.listeners.flowTo('udp', responseDestination(via));
  }

  #request(req: SipRequest, out: OutMessage, reply: string | undefined): void {
    const ctx = this.#ctx;
    const fail = (status: number, reason: string, error: string): void => {
      ctx.metrics.sendFailures.inc({ reason: status === 430 ? 'no-flow' : status === 403 ? 'refused-token' : 'no-route' });
      if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ method: req.method, callId: req.callId, status, error }, 'request not sent');
      if (reply !== undefined) this.#reply(reply, localResponseEnvelope(ctx.instance, 'none', req, status, reason, { error }));
    };

    // Which flow: explicit FlowRef, else a flow token in our top Route entry.
    let owner: { instance: string; flow: string } | undefined = out.flow === undefined ? undefined : { instance: out.flow.instance, flow: out.flow.id };
    const top = req.route[0];
    if (top !== undefined && top.uri.params.has(FLOW_PARAM)) {
      const check = ctx.tokens.verifyFlowToken(top.uri.params.get(FLOW_PARAM));
      if (!check.ok) {
        ctx.metrics.refusedTokens.inc({ where: 'route', fault: check.fault });
        fail(403, 'Forbidden', `flow token in Route refused (${check.fault})`);
        return;
      }
      owner ??= check.owner;
      if (check.owner.instance === owner.instance && check.owner.flow === owner.flow) {
        const rest = req.getHeaderValues('Route').slice(1);
        if (rest.length === 0) req.removeHeader('Route');
        else req.setHeader('Route', rest.join(', '));
      }
    }
    if (owner === undefined && (req.method === 'CANCEL' || req.method === 'ACK')) {
      // A CANCEL (or non-2xx ACK) built with our INVITE branch belongs to the instance that sent the INVITE.
      const b = ctx.tokens.verifyBranch(topBranch(req));
      if (b.ok && b.owner.instance !== ctx.instance) owner = b.owner;
    }
    if (owner !== undefined && owner.instance !== ctx.instance) {
      // Not ours: the owning instance sends it (on its connection) and answers the requester.
      let data: Uint8Array;
      try {
        data = encodeJson(OutMessage, { ...out, raw: toBase64(serializeMessage(req)) });
      } catch (err) {
        if (!(err instanceof ContractError)) throw err;
        fail(503, 'Service Unavailable', `cannot forward to the owning instance: ${err.message}`);
        return;
      }
      if (ctx.publisher.offer(ctx.subjects.out(owner.instance), data, Priority.high, undefined, reply)) {
        ctx.metrics.forwarded.inc({ direction: 'out', kind: 'request' });
      } else {
        fail(503, 'Service Unavailable', 'cannot forward to the owning instance');
      }
      return;
    }

    let flow: Flow | undefined;
    if (owner !== undefined) {
      flow = ctx.listeners.flow(owner.flow);
      if (flow === undefined) {
        fail(430, 'Flow Failed', `flow ${owner.flow} is gone`);
        return;
      }
    } else {
      try {
        const hop = nextHop(req, out.target);
        flow = ctx.listeners.flowTo(hop.transport, hop);
        if (flow === undefined) {
          fail(503, 'Service Unavailable', `no ${hop.transport} listener can reach ${hop.host}:${hop.port}`);
          return;
        }
      } catch (err) {
        if (!(err instanceof NextHopError)) throw err;
        fail(503, 'Service Unavailable', err.message);
        return;
      }
    }

    this.#stampRequest(req, flow);
    const bytes = serializeMessage(req);
    if (req.method === 'ACK' || reply === undefined) {
      ctx.sender.send(bytes, flow);
      return;
    }
    // The per-transaction child logger is made only when something is logged (rarely, and never
    // per message at info level): pino's child() costs more than the rest of this path.
    const callId = req.callId;
    const branch = req.topVia.branch;
    const log = (): Logger => ctx.log.child({ callId, branch });
    const ref = flowRef(ctx.instance, flow);
    let txnId = 'none';
    try {
      const handle = ctx.txns.request(req, bytes, flow, {
        onResponse: (res: TxnResponse) => {
          const r = res as SipResponse;
          if (r.status >= 200) ctx.pending.delete(txnId);
          const fault = responseEnvelopeFault(r);
          if (fault === undefined) {
            this.#reply(reply, responseEnvelope({ instance: ctx.instance, txn: txnId, response: r, raw: serializeMessage(r), flow: ref }));
            return;
          }
          // The response cannot be carried (e.g. a To tag beyond 256 characters): the requester
          // gets a local 502 saying why for a final response, never silence; a provisional is skipped.
          ctx.metrics.dropped.inc({ reason: 'response-too-large-for-envelope' });
          log().warn({ txn: txnId, status: r.status, problem: fault.detail }, 'response does not fit the response envelope');
          if (r.status >= 200) {
            this.#reply(reply, localResponseEnvelope(ctx.instance, txnId, req, 502, 'Bad Gateway', { error: `${r.status} response from the next hop not deliverable: ${fault.detail}` }));
          }
        },
        onTimeout: () => {
          ctx.pending.delete(txnId);
          if (ctx.log.isLevelEnabled('debug')) log().debug('client transaction timed out');
          this.#reply(reply, localResponseEnvelope(ctx.instance, txnId, req, 408, 'Request Timeout', { timeout: true }));
        },
        onTransportError: (error: Error) => {
          ctx.pending.delete(txnId);
          if (ctx.log.isLevelEnabled('debug')) log().debug({ err: error }, 'client transaction transport error');
          this.#reply(reply, localResponseEnvelope(ctx.instance, txnId, req, 503, 'Service Unavailable', { error: error.message }));
        },
      });
      txnId = handle.id;
      ctx.pending.add(txnId);
      if (ctx.log.isLevelEnabled('debug')) log().debug({ txn: txnId, flow: flow.id }, 'client transaction started');
    } catch (err) {
      if (!(err instanceof TxnError)) throw err;
      fail(503, 'Service Unavailable', err.message);
    }
  }

  /** Our Via (RFC 3261 §18.1.1, RFC 3581 rport), Record-Route with the flow token, Contact. */
  #stampRequest(req: SipRequest, flow: Flow): void {
    const ctx = this.#ctx;
    const adv = flow.listener.advertised;
    const branch = ctx.tokens.branch({ instance: ctx.instance, flow: flow.reliable ? flow.id : NO_FLOW });
    if (req.method === 'CANCEL' || req.method === 'ACK') {
      // CANCEL and a non-2xx ACK carry the INVITE's branch (§9.1, §17.1.1.3): ua built them with
      // our Via already on top when the INVITE went through us; only add ours when it is missing.
      const top = topBranch(req);
      if (top !== undefined && ctx.tokens.verifyBranch(top).ok) return;
    }
    req.prependVia({ transport: VIA_TRANSPORT[flow.transport], host: sipHost(adv.host), port: adv.port, branch, params: { rport: null } });
    if (DIALOG_CREATING.has(req.method) && req.to.tag === undefined) {
      req.addHeader('Record-Route', flowRouteHeader(adv, flow.transport, ctx.tokens.flowToken({ instance: ctx.instance, flow: flow.id })), true);
    }
    this.#addContact(req, req.method, 0, flow);
  }

  /** Adds `Contact: <sip:user@advertised;transport=x>` where one is required but missing. */
  #addContact(msg: SipRequest | SipResponse, method: string, status: number, flow: Flow): void {
    if (!NEEDS_CONTACT.has(method) || msg.hasHeader('Contact')) return;
    if (status !== 0 && (status === 100 || status >= 300)) return;
    const user = (msg.kind === 'request' ? msg.from : msg.to).uri.user;
    const adv = flow.listener.advertised;
    const scheme = flow.transport === 'tls' || flow.transport === 'wss' ? 'sips' : 'sip';
    const tp = flow.transport === 'udp' ? '' : `;transport=${flow.transport}`;
    msg.addHeader('Contact', `<${scheme}:${user !== undefined && user !== '' ? `${user}@` : ''}${sipHost(adv.host)}:${adv.port}${tp}>`);
  }

  /** `env` comes from the builders in envelopes.ts, valid by construction (test/envelopes.test.ts). */
  #reply(subject: string, env: ResponseEnvelope): void {
    this.#ctx.publisher.offer(subject, encodeJsonTrusted(ResponseEnvelope, env), Priority.high);
  }
}

export type { FlowRef };
