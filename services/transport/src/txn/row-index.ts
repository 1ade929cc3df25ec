/**
 * An index from keys to row numbers of the completed table (completed-table.ts), built for a
 * six-figure number of entries that come and go thousands of times per second:
 *
 *   - open addressing with linear probing in typed arrays: nothing on the JS heap per entry, no
 *     garbage per insert or delete;
 *   - deletion by backward shift (Knuth, TAOCP vol. 3, 6.4, algorithm R), so no tombstones pile
 *     up and the table never has to be rebuilt while its size stays put (a JS `Map` with this
 *     traffic rehashes every entry at once every few tens of seconds: ~9 ms for 131,072 entries);
 *   - rebuilt only to grow (load above 1/2) or shrink (below 1/8), from the stored hashes.
 *
 * Keys themselves are not stored: the owner says whether row `row` holds `key` (`RowMatcher`),
 * and passes the key's hash with every call.
 */

export interface RowMatcher<K> {
  /** True when row `row` is the row of `key`. */
  rowHolds(row: number, key: K): boolean;
}

/**
 * MurmurHash3's finalizer: every input bit reaches every output bit. Linear probing uses the low
 * bits, and sequential or similar keys must not land in one long run of slots (a delete walks
 * the run after its slot).
 */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** FNV-1a over the UTF-16 code units of `s`, mixed. */
export function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h);
}

/** An integer (up to 2^53), mixed. */
export function numberHash(n: number): number {
  return mix((n | 0) ^ Math.imul((n / 4294967296) | 0, 0x9e3779b1));
}

const EMPTY = -1;
const MIN_SLOTS = 2048;

export class RowIndex<K> {
  readonly #matcher: RowMatcher<K>;
  /** Row of each slot, EMPTY when free. Rows are non-negative integers below 2^53. */
  #rows = new Float64Array(MIN_SLOTS).fill(EMPTY);
  /** Hash of the key in each used slot. */
  #hashes = new Int32Array(MIN_SLOTS);
  #mask = MIN_SLOTS - 1;
  #size = 0;

  constructor(matcher: RowMatcher<K>) {
    this.#matcher = matcher;
  }

  get size(): number {
    return this.#size;
  }

  /** Slots allocated (for tests and sizing). */
  get slots(): number {
    return this.#mask + 1;
  }

  /** Longest run of used slots: what a miss or a delete may have to walk (for tests). */
  longestRun(): number {
    let longest = 0;
    let run = 0;
    // Twice round, so that a run wrapping past the last slot is counted whole.
    for (let k = 0; k < 2 * this.#rows.length; k++) {
      run = this.#rows[k & this.#mask] === EMPTY ? 0 : run + 1;
      if (run > longest) longest = run;
    }
    return Math.min(longest, this.#size);
  }

  /** The row of `key` (whose hash is `hash`), or -1. */
  get(key: K, hash: number): number {
    const slot = this.#find(key, hash);
    return slot < 0 ? -1 : (this.#rows[slot] as number);
  }

  /** Adds `key` → `row`; the key must not be in the index. */
  add(hash: number, row: number): void {
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#rebuild((this.#mask + 1) * 2);
    this.#place(hash, row);
    this.#size++;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: K, hash: number): boolean {
    const slot = this.#find(key, hash);
    if (slot < 0) return false;
    this.#removeAt(slot);
    this.#size--;
    const slots = this.#mask + 1;
    if (slots > MIN_SLOTS && this.#size * 8 < slots) this.#rebuild(slots / 2);
    return true;
  }

  clear(): void {
    this.#rows = new Float64Array(MIN_SLOTS).fill(EMPTY);
    this.#hashes = new Int32Array(MIN_SLOTS);
    this.#mask = MIN_SLOTS - 1;
    this.#size = 0;
  }

  #find(key: K, hash: number): number {
    const rows = this.#rows;
    const hashes = this.#hashes;
    const mask = this.#mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const row = rows[i] as number;
      if (row === EMPTY) return -1;
      if (hashes[i] === hash && this.#matcher.rowHolds(row, key)) return i;
    }
  }

  #place(hash: number, row: number): void {
    const mask = this.#mask;
    let i = hash & mask;
    while (this.#rows[i] !== EMPTY) i = (i + 1) & mask;
    this.#rows[i] = row;
    this.#hashes[i] = hash;
  }

  /** Backward-shift deletion: entries after the hole move up unless that would pass their home. */
  #removeAt(slot: number): void {
    const rows = this.#rows;
    const hashes = this.#hashes;
    const mask = this.#mask;
    let hole = slot;
    for (let j = (slot + 1) & mask; rows[j] !== EMPTY; j = (j + 1) & mask) {
      const home = (hashes[j] as number) & mask;
      // The entry at j may fill the hole when its home is not cyclically within (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      rows[hole] = rows[j] as number;
      hashes[hole] = hashes[j] as number;
      hole = j;
    }
    rows[hole] = EMPTY;
  }

  #rebuild(slots: number): void {
    const rows = this.#rows;
    const hashes = this.#hashes;
    this.#rows = new Float64Array(slots).fill(EMPTY);
    this.#hashes = new Int32Array(slots);
    this.#mask = slots - 1;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as number;
      if (row !== EMPTY) this.#place(hashes[i] as number, row);
    }
  }
}
