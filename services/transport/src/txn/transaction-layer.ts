/**
 * The transaction layer (RFC 3261 §17, RFC 6026): tables of server and client transactions
 * (non-INVITE server transactions in Completed over UDP as compact rows: completed-table.ts),
 * request/response matching (keys.ts), bounded sizes, and the 2xx-until-ACK retransmissions
 * (ack-wait.ts). Pure: time comes from the injected clock, bytes leave through `send`.
 *
 * The transport calls `receiveRequest` / `receiveResponse` for every parsed message from the
 * wire and follows the returned instruction; the TU side (ua over NATS) reaches the layer via
 * `respond` (responses on a server transaction) and `request` (a new client transaction).
 */
import { randomBytes } from 'node:crypto';
import { AckWait, type AckWaitHost } from './ack-wait.js';
import { CompletedTable, type CompletingTxn } from './completed-table.js';
import { DeadlineQueue } from './deadline-queue.js';
import { TxnError, TxnErrorCode } from './errors.js';
import { InviteClientTxn } from './invite-client.js';
import { AckOutcome, InviteServerTxn } from './invite-server.js';
import {
  ackWaitKey,
  cancelTargetKey,
  clientKey,
  clientKeyOfRequest,
  clientKeyOfResponse,
  legacyAckAlias,
  serverKey,
} from './keys.js';
import { RespondOutcome, type AwaitsFinal, type Machine, type MachineHost } from './machine.js';
import { buildTrying } from './messages.js';
import { NonInviteClientTxn } from './non-invite-client.js';
import { NonInviteServerTxn } from './non-invite-server.js';
import { resolveTimers } from './timers.js';
import type { ClientTu, Clock, Flow, TerminationReason, TimerValues, TxnEvent, TxnRequest, TxnResponse } from './types.js';
import { TxnSide } from './types.js';

export interface TransactionLayerOptions {
  readonly clock: Clock;
  /** Sends bytes on a flow; may throw (the layer treats it as a transport error). */
  send(bytes: Uint8Array, flow: Flow): void;
  readonly timers?: Partial<TimerValues>;
  readonly limits: { readonly maxServerTxns: number; readonly maxClientTxns: number };
  /** Send 100 Trying at once for every new INVITE (§17.2.1). Default false. */
  readonly sendTrying?: boolean;
  /** Metrics and logs; must not throw. */
  onEvent?(event: TxnEvent): void;
}

/** A server transaction as the transport and the TU see it. */
export interface ServerTxnHandle {
  /** Opaque, unique per layer instance; goes into envelopes as `txn` and back into `respond`. */
  readonly id: string;
  readonly method: string;
  readonly state: string;
  readonly request: TxnRequest;
  readonly flow: Flow;
}

/** A client transaction as its creator sees it. */
export interface ClientTxnHandle {
  readonly id: string;
  readonly method: string;
  readonly state: string;
  readonly request: TxnRequest;
  readonly flow: Flow;
}

/** What the transport must do with a request from the wire. */
export type ReceiveRequestResult =
  /** A new server transaction: pass the request to the TU (100 Trying already sent if enabled). */
  | { readonly kind: 'new'; readonly txn: ServerTxnHandle }
  /**
   * A retransmission: absorbed, the last response (if any) was resent. Do not pass up. `txn` is
   * undefined for a non-INVITE transaction in Completed over UDP (the layer keeps only its final
   * response, completed-table.ts).
   */
  | { readonly kind: 'retransmission'; readonly txn: ServerTxnHandle | undefined }
  /**
   * An ACK. 'non2xx': the ACK of a non-2xx final, absorbed (do not pass up). '2xx': it ended the
   * 2xx retransmissions of a server transaction here (pass to the TU). 'none': no transaction
   * here knows it (pass to the TU, or forward to the owning instance).
   */
  | { readonly kind: 'ack'; readonly matched: 'non2xx' | '2xx' | 'none' }
  /**
   * A new CANCEL server transaction (§9.2). `invite` is its INVITE transaction when one exists
   * here; when undefined, answer 481 on `txn`. When `invite.state` is no longer 'proceeding',
   * the INVITE already has a final response: answer 200 to the CANCEL and nothing else.
   */
  | { readonly kind: 'cancel'; readonly txn: ServerTxnHandle; readonly invite: ServerTxnHandle | undefined }
  /** The server table is full (or the layer closed): answer 503 statelessly. */
  | { readonly kind: 'overload' }
  /** The request cannot be matched (no Via): answer 400 statelessly. */
  | { readonly kind: 'invalid'; readonly reason: string };

/** What happened to a response from the wire. */
export type ReceiveResponseResult =
  /** `delivered`: passed to the TU's onResponse; false when absorbed as a retransmission. */
  | { readonly kind: 'matched'; readonly txn: ClientTxnHandle; readonly delivered: boolean }
  /** No client transaction here: drop it, or forward it to the instance its branch names. */
  | { readonly kind: 'unmatched' };

export type RespondResult = RespondOutcome | 'unknown-transaction' | 'mismatch';

type ServerTxn = InviteServerTxn | NonInviteServerTxn;
type ClientTxn = InviteClientTxn | NonInviteClientTxn;

/** The answer for every retransmission absorbed by the completed table (no allocation). */
const COMPLETED_RETRANSMISSION: ReceiveRequestResult = Object.freeze({ kind: 'retransmission', txn: undefined });

export class TransactionLayer {
  readonly timers: TimerValues;
  readonly #options: TransactionLayerOptions;
  readonly #host: MachineHost;
  readonly #ackHost: AckWaitHost;
  /** Matching key (and RFC 2543 ACK aliases) → server transaction. */
  readonly #serverByKey = new Map<string, ServerTxn>();
  readonly #serverById = new Map<string, ServerTxn>();
  /** Aliases registered per server transaction id, removed with it. */
  readonly #aliases = new Map<string, string>();
  /** Non-INVITE server transactions in Completed over unreliable flows: no machine, only a row. */
  readonly #completed: CompletedTable;
  /** 64*T1 deadlines of non-INVITE server transactions without a final response. */
  readonly #awaitingFinal: DeadlineQueue<AwaitsFinal>;
  readonly #clientByKey = new Map<string, ClientTxn>();
  readonly #clientKeyById = new Map<string, string>();
  readonly #ackWaits = new Map<string, AckWait>();
  readonly #idPrefix = randomBytes(6).toString('hex');
  /** Server transaction ids are this prefix and a number in base 36. */
  readonly #serverIdPrefix = `${this.#idPrefix}-s`;
  #nextId = 0;
  #closed = false;

  constructor(options: TransactionLayerOptions) {
    const { maxServerTxns, maxClientTxns } = options.limits;
    if (!Number.isInteger(maxServerTxns) || maxServerTxns < 1 || !Number.isInteger(maxClientTxns) || maxClientTxns < 1) {
      throw new TxnError(TxnErrorCode.CONFIG, 'limits.maxServerTxns and limits.maxClientTxns must be positive integers');
    }
    this.#options = options;
    this.timers = resolveTimers(options.timers);
    const emit = (event: TxnEvent): void => this.#emit(event);
    this.#awaitingFinal = new DeadlineQueue<AwaitsFinal>(options.clock, 64 * this.timers.T1, (txn) => txn.noFinalResponse());
    this.#host = {
      clock: options.clock,
      timers: this.timers,
      send: (bytes, flow) => options.send(bytes, flow),
      emit,
      terminated: (txn, reason) => this.#onTerminated(txn, reason),
      handOverCompleted: (txn, bytes) => this.#handOverCompleted(txn, bytes),
      stillCompleted: (ticket) => this.#completed.holds(ticket),
      awaitingFinal: this.#awaitingFinal,
    };
    this.#completed = new CompletedTable(
      { clock: options.clock, send: (bytes, flow) => options.send(bytes, flow), emit, idOf: (n) => this.#serverIdPrefix + n.toString(36) },
      64 * this.timers.T1,
    );
    this.#ackHost = {
      clock: options.clock,
      timers: this.timers,
      send: (bytes, flow) => options.send(bytes, flow),
      retransmitted: (wait) => emit({ type: 'retransmission', side: TxnSide.server, id: wait.txnId, method: 'INVITE', direction: 'out' }),
      gaveUp: (wait) => {
        this.#ackWaits.delete(wait.key);
        emit({ type: 'ack-timeout', txn: wait.txnId, callId: wait.callId, cseq: wait.cseq, toTag: wait.toTag, flowId: wait.flow.id });
      },
      failed: (wait, error) => {
        this.#ackWaits.delete(wait.key);
        emit({ type: 'transport-error', side: TxnSide.server, id: wait.txnId, method: 'INVITE', error });
      },
    };
  }

  /** Live transactions, and 2xx responses still waiting for their ACK. */
  size(): { server: number; client: number; pendingAcks: number } {
    return { server: this.#serverCount(), client: this.#clientByKey.size, pendingAcks: this.#ackWaits.size };
  }

  /** Bytes held for the final responses of completed non-INVITE transactions (completed-table.ts). */
  completedResponseBytes(): number {
    return this.#completed.responseBytes;
  }

  /**
   * A server transaction by id: undefined once terminated, and for a non-INVITE transaction in
   * Completed over UDP (only its final response is kept until Timer J; `respond` says bad-state).
   */
  server(id: string): ServerTxnHandle | undefined {
    return this.#serverById.get(id);
  }

  /** A request from the wire (§17.2.3 matching). Apply rport/received to its top Via first. */
  receiveRequest(req: TxnRequest, flow: Flow): ReceiveRequestResult {
    const key = serverKey(req);
    if (key === undefined) return { kind: 'invalid', reason: 'request has no Via' };
    if (req.method === 'ACK') return { kind: 'ack', matched: this.#receiveAck(req, key) };

    const existing = this.#serverByKey.get(key);
    if (existing !== undefined) {
      existing.receiveRetransmission();
      return { kind: 'retransmission', txn: existing };
    }
    if (this.#completed.absorb(key)) return COMPLETED_RETRANSMISSION;
    if (this.#closed || this.#serverCount() >= this.#options.limits.maxServerTxns) {
      this.#emit({ type: 'overload', side: TxnSide.server, method: req.method });
      return { kind: 'overload' };
    }

    const n = this.#nextNumber();
    const id = this.#serverIdPrefix + n.toString(36);
    const txn = req.method === 'INVITE' ? new InviteServerTxn(this.#host, id, key, req, flow) : new NonInviteServerTxn(this.#host, id, n, key, req, flow);
    this.#serverByKey.set(key, txn);
    this.#serverById.set(id, txn);
    this.#emit({ type: 'created', side: TxnSide.server, id, method: req.method });

    if (txn instanceof InviteServerTxn && this.#options.sendTrying === true) txn.respond(100, buildTrying(req));
    if (req.method === 'CANCEL') {
      const targetKey = cancelTargetKey(req);
      const target = targetKey === undefined ? undefined : this.#serverByKey.get(targetKey);
      return { kind: 'cancel', txn, invite: target instanceof InviteServerTxn ? target : undefined };
    }
    return { kind: 'new', txn };
  }

  /** A response from the wire (§17.1.3 matching). */
  receiveResponse(res: TxnResponse, flow: Flow): ReceiveResponseResult {
    const key = clientKeyOfResponse(res);
    const txn = key === undefined ? undefined : this.#clientByKey.get(key);
    if (txn === undefined) return { kind: 'unmatched' };
    return { kind: 'matched', txn, delivered: txn.receive(res, flow) };
  }

  /**
   * A response from the TU on server transaction `txnId`; `res` is its parsed form, `bytes` what
   * goes on the wire. A 2xx to an INVITE is then retransmitted here until its ACK (§13.3.1.4).
   */
  respond(txnId: string, res: TxnResponse, bytes: Uint8Array): RespondResult {
    const txn = this.#serverById.get(txnId);
    // §17.2.2: in Completed, any other response from the TU is discarded.
    if (txn === undefined) return this.#isCompleted(txnId) ? RespondOutcome.badState : 'unknown-transaction';
    const req = txn.request;
    if (res.callId !== req.callId || res.cseq.seq !== req.cseq.seq || res.cseq.method !== req.cseq.method) return 'mismatch';
    const outcome = txn.respond(res.status, bytes);
    if (outcome !== RespondOutcome.sent || !(txn instanceof InviteServerTxn)) return outcome;
    if (res.status >= 200 && res.status < 300) this.#awaitAck(txn, res, bytes);
    else if (res.status >= 300) this.#addLegacyAlias(txn, res);
    return outcome;
  }

  /**
   * Starts a client transaction (§17.1) for a request whose top Via carries the branch, sending
   * `bytes` at once. Throws TxnError: OVERLOAD when the table is full, DUPLICATE for a branch and
   * method in use, INVALID_REQUEST for ACK (never a transaction) or a missing branch, TRANSPORT
   * when the first send fails, CLOSED after close().
   */
  request(req: TxnRequest, bytes: Uint8Array, flow: Flow, tu: ClientTu): ClientTxnHandle {
    if (this.#closed) throw new TxnError(TxnErrorCode.CLOSED, 'transaction layer is closed');
    if (req.method === 'ACK') throw new TxnError(TxnErrorCode.INVALID_REQUEST, 'ACK is sent without a client transaction (§17.1.1.3, §13.2.2.4)');
    const key = clientKeyOfRequest(req);
    if (key === undefined) throw new TxnError(TxnErrorCode.INVALID_REQUEST, 'request has no top Via branch');
    if (this.#clientByKey.has(key)) throw new TxnError(TxnErrorCode.DUPLICATE, `a ${req.method} client transaction with this branch exists`);
    if (this.#clientByKey.size >= this.#options.limits.maxClientTxns) {
      this.#emit({ type: 'overload', side: TxnSide.client, method: req.method });
      throw new TxnError(TxnErrorCode.OVERLOAD, `client transaction limit (${this.#options.limits.maxClientTxns}) reached`);
    }
    const id = `${this.#idPrefix}-c${this.#nextNumber().toString(36)}`;
    const txn = req.method === 'INVITE' ? new InviteClientTxn(this.#host, id, req, bytes, flow, tu) : new NonInviteClientTxn(this.#host, id, req, bytes, flow, tu);
    try {
      txn.start();
    } catch (cause) {
      txn.abort();
      throw new TxnError(TxnErrorCode.TRANSPORT, `sending ${req.method} failed`, { cause });
    }
    this.#clientByKey.set(key, txn);
    this.#clientKeyById.set(id, key);
    this.#emit({ type: 'created', side: TxnSide.client, id, method: req.method });
    if (req.method === 'CANCEL') {
      const branch = req.topVia?.branch;
      const invite = branch === undefined ? undefined : this.#clientByKey.get(clientKey(branch, 'INVITE'));
      if (invite instanceof InviteClientTxn) invite.cancelSent();
    }
    return txn;
  }

  /** Stops every timer and forgets every transaction, without TU callbacks. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const txn of [...this.#serverById.values(), ...this.#clientByKey.values()]) {
      txn.abort();
      this.#emit({ type: 'terminated', side: txn.side, id: txn.id, method: txn.method, state: txn.state, reason: 'closed' });
    }
    this.#completed.close();
    this.#awaitingFinal.clear();
    for (const wait of this.#ackWaits.values()) wait.stop();
    this.#serverByKey.clear();
    this.#serverById.clear();
    this.#aliases.clear();
    this.#clientByKey.clear();
    this.#clientKeyById.clear();
    this.#ackWaits.clear();
  }

  #receiveAck(ack: TxnRequest, key: string): 'non2xx' | '2xx' | 'none' {
    const txn = this.#serverByKey.get(key);
    let outcome: 'non2xx' | '2xx' | 'none' = 'none';
    if (txn instanceof InviteServerTxn) {
      const result = txn.receiveAck();
      if (result === AckOutcome.absorbed) return 'non2xx';
      if (result === AckOutcome.toTu) outcome = '2xx';
    }
    // §13.3.1.4: the ACK for a 2xx (its own transaction, new branch) ends its retransmissions.
    const waitKey = ackWaitKey(ack.callId, ack.cseq.seq, ack.to.tag);
    const wait = this.#ackWaits.get(waitKey);
    if (wait !== undefined) {
      wait.stop();
      this.#ackWaits.delete(waitKey);
      outcome = '2xx';
    }
    return outcome;
  }

  #awaitAck(txn: InviteServerTxn, res: TxnResponse, bytes: Uint8Array): void {
    const key = ackWaitKey(txn.request.callId, txn.request.cseq.seq, res.to.tag);
    const existing = this.#ackWaits.get(key);
    if (existing !== undefined) {
      existing.update(bytes);
      return;
    }
    // Bounded like the server table: each entry belongs to a live or recent INVITE transaction.
    if (this.#ackWaits.size >= this.#options.limits.maxServerTxns) {
      this.#emit({ type: 'overload', side: TxnSide.server, method: 'ACK' });
      return;
    }
    const init = { key, txnId: txn.id, callId: txn.request.callId, cseq: txn.request.cseq.seq, toTag: res.to.tag, flow: txn.flow, bytes };
    this.#ackWaits.set(key, new AckWait(this.#ackHost, init));
  }

  /** RFC 2543 peers: the ACK for this final response carries its To tag (§17.2.3). */
  #addLegacyAlias(txn: InviteServerTxn, res: TxnResponse): void {
    const alias = legacyAckAlias(txn.request, res.to.tag);
    if (alias === undefined || alias === txn.key || this.#serverByKey.has(alias)) return;
    this.#serverByKey.set(alias, txn);
    this.#aliases.set(txn.id, alias);
  }

  #onTerminated(txn: Machine, _reason: TerminationReason): void {
    if (txn instanceof InviteServerTxn || txn instanceof NonInviteServerTxn) {
      if (this.#serverByKey.get(txn.key) === txn) this.#serverByKey.delete(txn.key);
      const alias = this.#aliases.get(txn.id);
      if (alias !== undefined) {
        if (this.#serverByKey.get(alias) === txn) this.#serverByKey.delete(alias);
        this.#aliases.delete(txn.id);
      }
      this.#serverById.delete(txn.id);
      return;
    }
    const key = this.#clientKeyById.get(txn.id);
    if (key !== undefined) {
      if (this.#clientByKey.get(key) === txn) this.#clientByKey.delete(key);
      this.#clientKeyById.delete(txn.id);
    }
  }

  /** §17.2.2 Completed over an unreliable flow: the completed table takes over (Timer J, resends). */
  #handOverCompleted(txn: CompletingTxn & Machine, bytes: Uint8Array): number {
    if (this.#serverByKey.get(txn.key) === txn) this.#serverByKey.delete(txn.key);
    this.#serverById.delete(txn.id);
    return this.#completed.add(txn, bytes);
  }

  /** Whether `id` names a server transaction of this layer that is in the completed table. */
  #isCompleted(id: string): boolean {
    if (!id.startsWith(this.#serverIdPrefix) || id.length > this.#serverIdPrefix.length + 10) return false;
    const digits = id.slice(this.#serverIdPrefix.length);
    const n = parseInt(digits, 36);
    return Number.isSafeInteger(n) && n.toString(36) === digits && this.#completed.hasNumber(n);
  }

  #serverCount(): number {
    return this.#serverById.size + this.#completed.size;
  }

  #nextNumber(): number {
    this.#nextId += 1;
    return this.#nextId;
  }

  #emit(event: TxnEvent): void {
    const sink = this.#options.onEvent;
    if (sink === undefined) return;
    try {
      sink(event);
    } catch {
      // A metrics sink must not break protocol handling; there is nowhere else to report it.
    }
  }
}
