/**
 * Append-only storage for the final responses that completed transactions keep until their timer
 * fires (completed-table.ts). Responses are copied into large chunks in the order the
 * transactions complete, which is also the order they expire (one Timer J duration for all), so
 * a chunk is released whole once every response in it has expired: no buffer object per
 * response for the GC to trace or sweep, and nothing else keeps a view into the buffer the
 * response arrived in (Node's pool, a socket read, a base64 decode).
 *
 * A chunk is never written again once full or released; views handed out (for a send in flight)
 * stay valid however long they live.
 */

/** Default chunk size: a few hundred typical responses; a larger response gets its own chunk. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

export class ResponseSlab {
  readonly #chunkBytes: number;
  /** Chunks numbered #first, #first + 1, ...; the last one is being filled. */
  readonly #chunks: Buffer[] = [];
  #first = 0;
  /** Bytes used in the last chunk. */
  #used = 0;

  constructor(chunkBytes = DEFAULT_CHUNK_BYTES) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new RangeError('chunkBytes must be a positive integer');
    this.#chunkBytes = chunkBytes;
  }

  /** Number of the chunk the last `append` wrote to (the one being filled). */
  get lastChunk(): number {
    return this.#first + this.#chunks.length - 1;
  }

  /** Bytes allocated in chunks still held. */
  get bytesHeld(): number {
    let n = 0;
    for (const c of this.#chunks) n += c.length;
    return n;
  }

  /** Copies `bytes` in and returns their offset in chunk `lastChunk`. */
  append(bytes: Uint8Array): number {
    let last = this.#chunks[this.#chunks.length - 1];
    if (last === undefined || this.#used + bytes.length > last.length) {
      last = Buffer.allocUnsafeSlow(Math.max(this.#chunkBytes, bytes.length));
      this.#chunks.push(last);
      this.#used = 0;
    }
    const offset = this.#used;
    last.set(bytes, offset);
    this.#used += bytes.length;
    return offset;
  }

  /** The bytes stored at (`chunk`, `offset`), as a view (no copy). */
  view(chunk: number, offset: number, length: number): Uint8Array {
    const c = this.#chunks[chunk - this.#first];
    if (c === undefined) throw new RangeError(`chunk ${chunk} was released`);
    return c.subarray(offset, offset + length);
  }

  /** Releases every chunk numbered below `chunk` (never the one being filled). */
  releaseBefore(chunk: number): void {
    const n = Math.min(chunk, this.lastChunk) - this.#first;
    if (n <= 0) return;
    this.#chunks.splice(0, n);
    this.#first += n;
  }

  /** Releases everything. */
  clear(): void {
    this.#first += this.#chunks.length;
    this.#chunks.length = 0;
    this.#used = 0;
  }
}
