/**
 * Host classification (RFC 3261 §25.1 host; RFC 5118 IPv6 references), on bytes so that the fast
 * paths make no string; uri.ts uses the same code for strings.
 */

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** IPv4address: four parts of 1..3 digits, each at most 255. */
function isIPv4(b: Uint8Array, s: number, e: number): boolean {
  let parts = 0;
  let len = 0;
  let v = 0;
  for (let i = s; i <= e; i++) {
    if (i === e || b[i] === 0x2e) {
      if (len === 0 || len > 3 || v > 255) return false;
      parts++;
      len = 0;
      v = 0;
    } else if (isDigit(b[i] as number)) {
      len++;
      v = v * 10 + ((b[i] as number) - 0x30);
    } else return false;
  }
  return parts === 4;
}

/**
 * IPv6address (RFC 4291 §2.2 text forms): hex groups of 1..4 digits, at most one `::`, an optional
 * IPv4 tail, eight groups in all (an IPv4 tail counts two) or fewer with `::`. Like RFC 5118 §4.10
 * asks, the `:::` before an IPv4 tail that RFC 3261's ABNF allowed is tolerated.
 */
function isIPv6(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  let groups = 0;
  let compressed = false;
  if (e - i >= 2 && b[i] === 0x3a && b[i + 1] === 0x3a) {
    compressed = true;
    i += 2;
    if (i === e) return true;
  }
  for (;;) {
    const ts = i;
    let dots = false;
    while (i < e && b[i] !== 0x3a) {
      const c = b[i] as number;
      if (c === 0x2e) dots = true;
      else if (!isHex(c)) return false;
      i++;
    }
    if (dots) {
      if (i !== e || !isIPv4(b, ts, i)) return false;
      groups += 2;
      break;
    }
    if (i === ts || i - ts > 4) return false;
    groups++;
    if (i === e) break;
    i++; // ':'
    if (i < e && b[i] === 0x3a) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i === e) break;
      if (b[i] === 0x3a) {
        // RFC 5118 §4.10: `:::` is accepted only before an IPv4 tail.
        i++;
        let j = i;
        while (j < e && b[j] !== 0x3a) j++;
        if (j !== e || !isIPv4(b, i, e)) return false;
        groups += 2;
        break;
      }
    } else if (i === e) return false;
  }
  return compressed ? groups <= 7 : groups === 8;
}

/**
 * Classifies the host in b[s, e): 0 IPv4 address, 1 IPv6 reference (with its brackets),
 * 2 domain name, -1 not a valid host.
 */
export function hostKindCode(b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0) return -1;
  if (b[s] === 0x5b) return n >= 4 && b[e - 1] === 0x5d && isIPv6(b, s + 1, e - 1) ? 1 : -1;
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
  return dots === 3 && isIPv4(b, s, e) ? 0 : -1;
}
