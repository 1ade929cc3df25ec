/**
 * A fixed-capacity FIFO (ring buffer). `push` never blocks and never grows the buffer: when the queue
 * is full the new item is dropped and counted. Used between the NATS callback (producer) and the
 * HEP socket (consumer), so a slow or absent collector never stalls NATS.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  readonly #items: (T | undefined)[];
  #head = 0;
  #size = 0;
  #dropped = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, not ${capacity}`);
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Items refused because the queue was full, since creation. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends; returns false (and counts a drop) when full. */
  push(item: T): boolean {
    if (this.#size === this.capacity) {
      this.#dropped++;
      return false;
    }
    this.#items[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
    return true;
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return item;
  }
}
