/** Deterministic clock and random source for unit tests. */
import { createHash } from 'node:crypto';

export class FakeClock {
  now: number;
  constructor(start = 1_700_000_000_000) {
    this.now = start;
  }
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/** A reproducible byte stream (SHA-256 counter mode over a seed). */
export function seededRandom(seed = 'sipnats'): (size: number) => Uint8Array {
  let counter = 0;
  return (size: number): Uint8Array => {
    const out = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      filled += block.copy(out, filled, 0, Math.min(block.length, size - filled));
    }
    return out;
  };
}

/** Parses `Digest a="b", c=d` into an auth value view (test-only, simple quoting rules). */
export function authValue(header: string): { scheme: string; params: Map<string, string> } {
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space);
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?/gy;
  re.lastIndex = space + 1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header)) !== null && m[0] !== '') {
    const name = (m[1] ?? '').toLowerCase();
    const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[2] ?? '');
    params.set(name, value);
  }
  return { scheme, params };
}
