/**
 * Admission control for connections: a bounded total and a bound per source IP, so that no
 * remote party can fill the connection table (architecture: "every map keyed by remote input is
 * bounded").
 */
export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}

export class ConnectionGuard {
  readonly #limits: ConnectionLimits;
  readonly #perIp = new Map<string, number>();
  #total = 0;
  #refused = 0;

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  get total(): number {
    return this.#total;
  }

  /** Connections refused since start (either limit). */
  get refused(): number {
    return this.#refused;
  }

  /** Takes a slot for `ip`; false (and nothing taken) when a limit is reached. */
  tryAcquire(ip: string): boolean {
    const n = this.#perIp.get(ip) ?? 0;
    if (this.#total >= this.#limits.maxConnections || n >= this.#limits.maxConnectionsPerIp) {
      this.#refused++;
      return false;
    }
    this.#perIp.set(ip, n + 1);
    this.#total++;
    return true;
  }

  /** Gives back a slot taken by tryAcquire. */
  release(ip: string): void {
    const n = this.#perIp.get(ip);
    if (n === undefined) return;
    if (n <= 1) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n - 1);
    this.#total--;
  }
}
