/**
 * Bounded concurrency with bounded waiting lines: at most `concurrency` jobs run at once; jobs that
 * cannot start wait in their lane, `maxQueue` at most in the normal lane (requests) and in the
 * background lane (call timers), `maxPriorityQueue` in the priority lane (controller commands). A
 * free slot always takes a priority job first, so a command never waits behind a flood of
 * requests; then a request, except that every BACKGROUND_EVERY-th slot goes to a waiting background
 * job: timers (no-ACK, removal...) keep going under load, but after a flood the tens of thousands
 * of them it left due take at most that share from fresh calls. `offer` refuses (returns false)
 * when the lane is full or the queue is closed, so the caller can answer at once instead of piling
 * up work.
 */
export interface WorkQueueOptions {
  readonly concurrency: number;
  /** Most jobs waiting in the normal lane. */
  readonly maxQueue: number;
  /** Most jobs waiting in the priority lane (default: maxQueue). */
  readonly maxPriorityQueue?: number;
  /** Most jobs waiting in the background lane (default: maxQueue). */
  readonly maxBackgroundQueue?: number;
  /** Called with every failure of a job (jobs should handle their own errors). */
  readonly onError: (err: unknown) => void;
  readonly onChange?: (running: number, waiting: number) => void;
}

type Job = () => Promise<void>;

export const LANE = { normal: 'normal', priority: 'priority', background: 'background' } as const;

/** When background jobs wait, at least one slot in this many goes to them. */
export const BACKGROUND_EVERY = 4;
export type Lane = (typeof LANE)[keyof typeof LANE];

/** A FIFO of jobs with O(1) take (head index, compacted now and then). */
class Line {
  readonly #jobs: (Job | undefined)[] = [];
  #head = 0;

  constructor(readonly max: number) {}

  get length(): number {
    return this.#jobs.length - this.#head;
  }

  push(job: Job): void {
    this.#jobs.push(job);
  }

  take(): Job | undefined {
    if (this.#head >= this.#jobs.length) return undefined;
    const job = this.#jobs[this.#head];
    this.#jobs[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#jobs.length) {
      this.#jobs.splice(0, this.#head);
      this.#head = 0;
    }
    return job;
  }
}

export class WorkQueue {
  readonly #o: WorkQueueOptions;
  readonly #normal: Line;
  readonly #priority: Line;
  readonly #background: Line;
  /** Slots handed out while both the normal and the background lane had jobs waiting. */
  #contended = 0;
  #running = 0;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(o: WorkQueueOptions) {
    if (o.concurrency < 1 || o.maxQueue < 0 || (o.maxPriorityQueue ?? 0) < 0 || (o.maxBackgroundQueue ?? 0) < 0) throw new RangeError('concurrency must be at least 1 and the queue sizes at least 0');
    this.#o = o;
    this.#normal = new Line(o.maxQueue);
    this.#priority = new Line(o.maxPriorityQueue ?? o.maxQueue);
    this.#background = new Line(o.maxBackgroundQueue ?? o.maxQueue);
  }

  get running(): number {
    return this.#running;
  }

  /** Jobs waiting, every lane. */
  get waiting(): number {
    return this.#normal.length + this.#priority.length + this.#background.length;
  }

  /** Jobs waiting in one lane. */
  waitingIn(lane: Lane): number {
    return this.#line(lane).length;
  }

  #line(lane: Lane): Line {
    return lane === LANE.priority ? this.#priority : lane === LANE.background ? this.#background : this.#normal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `job` now or later; false when refused (its lane full, or closed). */
  offer(job: Job, lane: Lane = LANE.normal): boolean {
    if (this.#closed) return false;
    if (this.#running < this.#o.concurrency) {
      this.#start(job);
      return true;
    }
    const line = this.#line(lane);
    if (line.length >= line.max) return false;
    line.push(job);
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
      const next = this.#next();
      if (next !== undefined) this.#start(next);
      else this.#changed();
      if (this.#running === 0 && this.waiting === 0) {
        const waiters = this.#idle;
        this.#idle = [];
        for (const w of waiters) w();
      }
    });
  }

  /** The job a freed slot takes: priority, then normal with the background lane's share. */
  #next(): Job | undefined {
    const urgent = this.#priority.take();
    if (urgent !== undefined) return urgent;
    if (this.#normal.length > 0 && this.#background.length > 0) {
      this.#contended++;
      return this.#contended % BACKGROUND_EVERY === 0 ? this.#background.take() : this.#normal.take();
    }
    return this.#normal.take() ?? this.#background.take();
  }

  #changed(): void {
    this.#o.onChange?.(this.#running, this.waiting);
  }
}
