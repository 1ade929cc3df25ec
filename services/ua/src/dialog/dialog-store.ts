/**
 * Storage of dialog records with compare-and-set (JetStream KV shape, like BindingStore): records
 * are keyed by the sipnats call id; `dialogKey` gives the KV-safe key of a dialog id for an index
 * from (Call-ID, local tag, remote tag) to the call.
 */
import { createHash } from 'node:crypto';
import type { DialogRecord } from './types.js';

export interface StoredDialog {
  readonly value: DialogRecord;
  readonly revision: number;
}

export interface DialogStore {
  get(call: string): Promise<StoredDialog | undefined>;
  /** `expectedRevision` undefined creates; resolves false when the revision check fails. */
  put(call: string, value: DialogRecord, expectedRevision: number | undefined): Promise<boolean>;
  delete(call: string, expectedRevision: number): Promise<boolean>;
}

/** A fixed-size KV-safe key for a dialog id (a digest of Call-ID and both tags). */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return createHash('sha256').update(`${callId}\u0000${localTag}\u0000${remoteTag}`).digest('hex').slice(0, 40);
}

/** In-memory store for unit tests, bounded to `maxDialogs`. */
export class MemoryDialogStore implements DialogStore {
  readonly #data = new Map<string, StoredDialog>();
  readonly #max: number;
  #revision = 0;

  constructor(maxDialogs = 10_000) {
    this.#max = maxDialogs;
  }

  async get(call: string): Promise<StoredDialog | undefined> {
    return this.#data.get(call);
  }

  async put(call: string, value: DialogRecord, expectedRevision: number | undefined): Promise<boolean> {
    const current = this.#data.get(call);
    if (expectedRevision === undefined ? current !== undefined : current?.revision !== expectedRevision) return false;
    if (current === undefined && this.#data.size >= this.#max) throw new RangeError(`dialog store full (${this.#max})`);
    this.#data.set(call, { value: structuredClone(value), revision: ++this.#revision });
    return true;
  }

  async delete(call: string, expectedRevision: number): Promise<boolean> {
    if (this.#data.get(call)?.revision !== expectedRevision) return false;
    this.#data.delete(call);
    return true;
  }
}
