/**
 * Non-INVITE server transactions in the Completed state over unreliable flows (RFC 3261 §17.2.2):
 * for Timer J (64*T1, 32 s by default) each one only answers retransmissions of its request
 * with its final response, refuses other responses from the TU, and then terminates. At a few
 * thousand requests per second that is a six-figure number of transactions at any time, so the
 * layer keeps no machine for them, only what that duty needs:
 *
 *   - the matching key (§17.2.3) and the transaction number (its id for events and `respond`);
 *   - the final response as bytes, copied into an append-only slab (response-slab.ts), and the
 *     flow to resend it on;
 *   - the method (interned by the codec) and the expiry time, for events and Timer J.
 *
 * Rows sit in a ring in the order they entered Completed; Timer J has one duration, so that is
 * also their expiry order and one clock timer, armed for the oldest row, replaces a timer per
 * transaction. Two indexes (key → row, number → row) are open-addressing tables in typed arrays
 * (row-index.ts): nothing per row on the JS heap but the key string, and no rehash of the whole
 * table while its size stays put. Pure: time from the injected clock, bytes out through the
 * injected send.
 */
import { transportError } from './errors.js';
import { ResponseSlab } from './response-slab.js';
import { numberHash, RowIndex, stringHash } from './row-index.js';
import type { Clock, Flow, TimerHandle, TxnEvent } from './types.js';
import { TerminationReason, TxnSide } from './types.js';

export interface CompletedTableHost {
  readonly clock: Clock;
  /** The transport's send; may throw (§17.2.4 transport error). */
  send(bytes: Uint8Array, flow: Flow): void;
  emit(event: TxnEvent): void;
  /** The id of server transaction number `n` (as the layer made it). */
  idOf(n: number): string;
}

/** What a transaction hands over when it enters Completed. */
export interface CompletingTxn {
  readonly key: string;
  /** The number in its id. */
  readonly number: number;
  readonly method: string;
  readonly flow: Flow;
}

/** Smallest ring (rows); it doubles when full and halves when three quarters are unused. */
const MIN_ROWS = 1024;

export class CompletedTable {
  readonly #host: CompletedTableHost;
  /** Timer J. */
  readonly #lifetimeMs: number;
  readonly #slab: ResponseSlab;
  /** Matching key → row sequence number. */
  readonly #byKey = new RowIndex<string>({ rowHolds: (seq, key) => this.#keys[seq & this.#mask] === key });
  /** Transaction number → row sequence number. */
  readonly #byNumber = new RowIndex<number>({ rowHolds: (seq, n) => this.#numbers[seq & this.#mask] === n });
  /** Rows #head..#tail-1 are in the ring (at seq & #mask); a row whose key is undefined is gone. */
  #head = 0;
  #tail = 0;
  #mask = MIN_ROWS - 1;
  #keys: Array<string | undefined> = new Array<string | undefined>(MIN_ROWS);
  #flows: Array<Flow | undefined> = new Array<Flow | undefined>(MIN_ROWS);
  #methods: Array<string | undefined> = new Array<string | undefined>(MIN_ROWS);
  #numbers = new Float64Array(MIN_ROWS);
  #keyHashes = new Int32Array(MIN_ROWS);
  #expires = new Float64Array(MIN_ROWS);
  #chunks = new Int32Array(MIN_ROWS);
  #offsets = new Int32Array(MIN_ROWS);
  #lengths = new Int32Array(MIN_ROWS);
  #timer: TimerHandle | undefined;

  constructor(host: CompletedTableHost, lifetimeMs: number, slab = new ResponseSlab()) {
    this.#host = host;
    this.#lifetimeMs = lifetimeMs;
    this.#slab = slab;
  }

  /** Transactions in Completed. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Bytes held for their responses (slab chunks). */
  get responseBytes(): number {
    return this.#slab.bytesHeld;
  }

  /**
   * A transaction enters Completed having sent `bytes`, its final response. Returns a ticket for
   * `holds` (the transaction's row, valid until it terminates).
   */
  add(txn: CompletingTxn, bytes: Uint8Array): number {
    const hash = stringHash(txn.key);
    const old = this.#byKey.get(txn.key, hash);
    if (old >= 0) this.#drop(old, TerminationReason.normal); // never happens: keys are unique among live transactions
    if (this.#tail - this.#head > this.#mask) this.#resize((this.#mask + 1) * 2);
    const seq = this.#tail++;
    const i = seq & this.#mask;
    this.#keys[i] = txn.key;
    this.#flows[i] = txn.flow;
    this.#methods[i] = txn.method;
    this.#numbers[i] = txn.number;
    this.#keyHashes[i] = hash;
    this.#expires[i] = this.#host.clock.now() + this.#lifetimeMs;
    this.#offsets[i] = this.#slab.append(bytes);
    this.#chunks[i] = this.#slab.lastChunk;
    this.#lengths[i] = bytes.length;
    this.#byKey.add(hash, seq);
    this.#byNumber.add(numberHash(txn.number), seq);
    if (this.#timer === undefined) this.#arm();
    return seq;
  }

  /** Whether the row `ticket` (from `add`) is still in Completed. */
  holds(ticket: number): boolean {
    return ticket >= this.#head && ticket < this.#tail && this.#keys[ticket & this.#mask] !== undefined;
  }

  /** Whether server transaction number `n` is in Completed. */
  hasNumber(n: number): boolean {
    return this.#byNumber.get(n, numberHash(n)) >= 0;
  }

  /**
   * A request whose key is `key`: when it is a retransmission of a completed transaction, the
   * final response is sent again (§17.2.2) and true returned. A failing send ends the
   * transaction (§17.2.4).
   */
  absorb(key: string): boolean {
    const seq = this.#byKey.get(key, stringHash(key));
    if (seq < 0) return false;
    const i = seq & this.#mask;
    const id = this.#host.idOf(this.#numbers[i] as number);
    const method = this.#methods[i] as string;
    this.#host.emit({ type: 'retransmission', side: TxnSide.server, id, method, direction: 'in' });
    try {
      this.#host.send(this.#slab.view(this.#chunks[i] as number, this.#offsets[i] as number, this.#lengths[i] as number), this.#flows[i] as Flow);
    } catch (cause) {
      this.#host.emit({ type: 'transport-error', side: TxnSide.server, id, method, error: transportError(cause) });
      this.#drop(seq, TerminationReason.transportError);
      this.#settle();
      return true;
    }
    this.#host.emit({ type: 'retransmission', side: TxnSide.server, id, method, direction: 'out' });
    return true;
  }

  /** Forgets every row and stops the timer; each row's termination is reported as `closed`. */
  close(): void {
    if (this.#timer !== undefined) this.#host.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    for (let seq = this.#head; seq < this.#tail; seq++) {
      if (this.#keys[seq & this.#mask] !== undefined) this.#drop(seq, TerminationReason.closed);
    }
    this.#head = this.#tail;
    this.#slab.clear();
  }

  /** Timer J of the oldest rows. */
  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = this.#host.clock.now();
    while (this.#head < this.#tail) {
      const i = this.#head & this.#mask;
      if (this.#keys[i] !== undefined) {
        if ((this.#expires[i] as number) > now) break;
        this.#drop(this.#head, TerminationReason.normal);
      }
      this.#head++;
    }
    this.#settle();
  };

  /** After rows went: skip gone rows at the head, release their bytes, shrink, re-arm. */
  #settle(): void {
    while (this.#head < this.#tail && this.#keys[this.#head & this.#mask] === undefined) this.#head++;
    if (this.#head === this.#tail) {
      this.#slab.releaseBefore(this.#slab.lastChunk);
      if (this.#timer !== undefined) this.#host.clock.clearTimer(this.#timer);
      this.#timer = undefined;
    } else {
      this.#slab.releaseBefore(this.#chunks[this.#head & this.#mask] as number);
      if (this.#timer === undefined) this.#arm();
    }
    const rows = this.#mask + 1;
    if (rows > MIN_ROWS && (this.#tail - this.#head) * 4 < rows) this.#resize(rows / 2);
  }

  /** Arms the timer for the row at the head (which is in the table). */
  #arm(): void {
    const at = this.#expires[this.#head & this.#mask] as number;
    this.#timer = this.#host.clock.setTimer(Math.max(0, at - this.#host.clock.now()), this.#expire);
  }

  /** Removes row `seq` and reports its termination. */
  #drop(seq: number, reason: TerminationReason): void {
    const i = seq & this.#mask;
    const key = this.#keys[i] as string;
    const n = this.#numbers[i] as number;
    const method = this.#methods[i] as string;
    this.#byKey.delete(key, this.#keyHashes[i] as number); // before the row is cleared: the indexes read it
    this.#byNumber.delete(n, numberHash(n));
    this.#keys[i] = undefined;
    this.#flows[i] = undefined;
    this.#methods[i] = undefined;
    this.#host.emit({ type: 'terminated', side: TxnSide.server, id: this.#host.idOf(n), method, state: 'completed', reason });
  }

  /** Moves the rows into a ring of `rows` rows (a power of two above the rows in use). */
  #resize(rows: number): void {
    const mask = rows - 1;
    const keys = new Array<string | undefined>(rows);
    const flows = new Array<Flow | undefined>(rows);
    const methods = new Array<string | undefined>(rows);
    const numbers = new Float64Array(rows);
    const keyHashes = new Int32Array(rows);
    const expires = new Float64Array(rows);
    const chunks = new Int32Array(rows);
    const offsets = new Int32Array(rows);
    const lengths = new Int32Array(rows);
    for (let seq = this.#head; seq < this.#tail; seq++) {
      const from = seq & this.#mask;
      const to = seq & mask;
      keys[to] = this.#keys[from];
      flows[to] = this.#flows[from];
      methods[to] = this.#methods[from];
      numbers[to] = this.#numbers[from] as number;
      keyHashes[to] = this.#keyHashes[from] as number;
      expires[to] = this.#expires[from] as number;
      chunks[to] = this.#chunks[from] as number;
      offsets[to] = this.#offsets[from] as number;
      lengths[to] = this.#lengths[from] as number;
    }
    this.#mask = mask;
    this.#keys = keys;
    this.#flows = flows;
    this.#methods = methods;
    this.#numbers = numbers;
    this.#keyHashes = keyHashes;
    this.#expires = expires;
    this.#chunks = chunks;
    this.#offsets = offsets;
    this.#lengths = lengths;
  }
}
