/**
 * Address-of-record and Contact URI canonical forms.
 *
 * AoR (RFC 3261 §10.3 step 5): scheme and host lower-case, user part unescaped, port kept, every
 * URI parameter removed: `sip:alice@example.com`. Only sip and sips URIs with a user are AoRs.
 *
 * Contact key: a simplification of the §19.1.4 comparison: scheme and host lower-case, user
 * unescaped, port kept, parameters sorted by name with `transport`, `user`, `method`, `maddr`
 * and `ttl` values lower-cased. Two Contacts with equal keys are the same binding.
 */
import type { UriView } from '../sip-view.js';

function unescape(user: string): string | undefined {
  try {
    return decodeURIComponent(user);
  } catch {
    return undefined;
  }
}

/** The canonical AoR of a To URI, or undefined when it is not a sip/sips URI with a user. */
export function canonicalAor(uri: UriView): string | undefined {
  const scheme = uri.scheme.toLowerCase();
  if ((scheme !== 'sip' && scheme !== 'sips') || uri.user === undefined || uri.user === '' || uri.host === '') {
    return undefined;
  }
  const user = unescape(uri.user);
  if (user === undefined) return undefined;
  const port = uri.port === undefined ? '' : `:${uri.port}`;
  return `${scheme}:${user}@${uri.host.toLowerCase()}${port}`;
}

const LOWER_VALUE = new Set(['transport', 'user', 'method', 'maddr', 'ttl']);

/** Comparison key of a Contact URI. */
export function contactKey(uri: UriView): string {
  const scheme = uri.scheme.toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return `${scheme}:${uri.raw.slice(uri.raw.indexOf(':') + 1)}`;
  const user = uri.user === undefined ? '' : `${unescape(uri.user) ?? uri.user}@`;
  const port = uri.port === undefined ? '' : `:${uri.port}`;
  const params = [...uri.params.entries()]
    .map(([name, value]) => {
      const n = name.toLowerCase();
      const v = value === null ? '' : `=${LOWER_VALUE.has(n) ? value.toLowerCase() : value}`;
      return `${n}${v}`;
    })
    .sort();
  return `${scheme}:${user}${uri.host.toLowerCase()}${port}${params.map((p) => `;${p}`).join('')}`;
}
