/**
 * RFC 2782 ordering of SRV records: ascending priority; within one priority, a weighted random
 * order (records of weight 0 first in the running list, then repeatedly pick the first record
 * whose running weight sum reaches a uniform random number in 0..sum). Random is injected.
 */
import type { SrvRecord } from './types.js';

/** `random` returns a number in [0, 1). */
export function orderSrv(records: readonly SrvRecord[], random: () => number): SrvRecord[] {
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvRecord[] = [];
  for (const priority of priorities) {
    const group = usable.filter((r) => r.priority === priority);
    // Weight 0 first (RFC 2782), otherwise keep the given order.
    let rest = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)];
    while (rest.length > 0) {
      const sum = rest.reduce((s, r) => s + r.weight, 0);
      const pick = Math.floor(random() * (sum + 1));
      let running = 0;
      let index = rest.length - 1;
      for (let i = 0; i < rest.length; i++) {
        running += rest[i]?.weight ?? 0;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      const chosen = rest[index];
      if (chosen === undefined) break;
      out.push(chosen);
      rest = rest.filter((_, i) => i !== index);
    }
  }
  return out;
}
