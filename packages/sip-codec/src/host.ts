/**
 * Host classification on bytes for the fast paths.
 */

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * hostKindOf (uri.ts) on bytes, without making a string: 0 IPv4 address, 1 IPv6 reference,
 * 2 domain, -1 not a valid host. Must agree with hostKindOf (tested differentially).
 */
export function hostKindCode(b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0) return -1;
  if (b[s] === 0x5b) {
    if (n < 4 || b[e - 1] !== 0x5d) return -1;
    let colons = 0;
    for (let i = s + 1; i < e - 1; i++) {
      const c = b[i] as number;
      if (c === 0x3a) colons++;
      else if (!(isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c === 0x2e)) return -1;
    }
    return colons >= 2 ? 1 : -1;
  }
  let allNumeric = true;
  let dots = 0;
  for (let i = s; i < e; i++) {
    const c = b[i] as number;
    if (c === 0x2e) dots++;
    else if (isDigit(c)) continue;
    else if (((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2d || c === 0x5f) allNumeric = false;
    else return -1;
  }
  if (!allNumeric) return 2;
  if (dots !== 3) return -1;
  // Four parts of 1..3 digits, each at most 255.
  let len = 0;
  let v = 0;
  for (let i = s; i <= e; i++) {
    if (i === e || b[i] === 0x2e) {
      if (len === 0 || len > 3 || v > 255) return -1;
      len = 0;
      v = 0;
    } else {
      len++;
      v = v * 10 + ((b[i] as number) - 0x30);
    }
  }
  return 0;
}

