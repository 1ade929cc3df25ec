/**
 * Bounded concurrency with a bounded waiting line: at most `concurrency` jobs run at once and at
 * most `maxQueue` wait. `offer` refuses (returns false) when the line is full or the queue is
 * closed, so the caller can answer 503 at once instead of piling up work.
 */
export interface WorkQueueOptions {
  readonly concurrency: number;
  readonly maxQueue: number;
  /** Called with every failure of a job (jobs should handle their own errors). */
  readonly onError: (err: unknown) => void;
  readonly onChange?: (running: number, waiting: number) => void;
}

type Job = () => Promise<void>;

export class WorkQueue {
  readonly #o: WorkQueueOptions;
  readonly #waiting: Job[] = [];
  #head = 0;
  #running = 0;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(o: WorkQueueOptions) {
    if (o.concurrency < 1 || o.maxQueue < 0) throw new RangeError('concurrency must be at least 1 and maxQueue at least 0');
    this.#o = o;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `job` now or later; false when refused (full or closed). */
  offer(job: Job): boolean {
    if (this.#closed) return false;
    if (this.#running < this.#o.concurrency) {
      this.#start(job);
      return true;
    }
    if (this.waiting >= this.#o.maxQueue) return false;
    this.#waiting.push(job);
    this.#changed();
    return true;
  }

  /** Refuses new jobs from now on; resolves when every accepted job finished. */
  close(): Promise<void> {
    this.#closed = true;
    return this.idle();
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #start(job: Job): void {
    this.#running++;
    this.#changed();
    let p: Promise<void>;
    try {
      p = job();
    } catch (err) {
      p = Promise.reject(err);
    }
    p.catch((err: unknown) => this.#o.onError(err)).finally(() => {
      this.#running--;
      const next = this.#take();
      if (next !== undefined) this.#start(next);
      else this.#changed();
      if (this.#running === 0 && this.waiting === 0) {
        const waiters = this.#idle;
        this.#idle = [];
        for (const w of waiters) w();
      }
    });
  }

  #take(): Job | undefined {
    if (this.#head >= this.#waiting.length) return undefined;
    const job = this.#waiting[this.#head];
    this.#waiting[this.#head] = undefined as unknown as Job;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#head);
      this.#head = 0;
    }
    return job;
  }

  #changed(): void {
    this.#o.onChange?.(this.#running, this.waiting);
  }
}
