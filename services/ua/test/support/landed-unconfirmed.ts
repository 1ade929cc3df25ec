/** A call store whose writes can land and still fail, as a write does during a NATS failover. */
import { UA_ERROR, UaError } from '../../src/errors.js';
import { MemoryCallStore, type CallEntry } from '../../src/store/call-store.js';

export class LandedUnconfirmedStore extends MemoryCallStore {
  /** The next write of this entry (by call id and phase) lands, then throws store-unavailable. */
  #armed: { readonly call?: string; readonly phase: string } | undefined;

  failNextWrite(phase: string, call?: string): void {
    this.#armed = { phase, ...(call === undefined ? {} : { call }) };
  }

  override async update(entry: CallEntry, revision: number): Promise<number | undefined> {
    const r = await super.update(entry, revision);
    const armed = this.#armed;
    if (r !== undefined && armed !== undefined && entry.dialog.phase === armed.phase && (armed.call === undefined || armed.call === entry.dialog.call)) {
      this.#armed = undefined;
      throw new UaError(UA_ERROR.storeUnavailable, 'write not confirmed in time');
    }
    return r;
  }
}
