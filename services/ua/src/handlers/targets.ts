/**
 * Next hops of an outbound request (RFC 3263): a URI whose host is a name is resolved (NAPTR, SRV,
 * A/AAAA, cached for the records' TTL); an IP literal needs no lookup and gives no targets (the
 * transport sends to it as it is).
 */
import { isIP } from 'node:net';
import { parseUri } from '@sipnats/sip-codec';
import type { SipResolver } from '../resolver/resolver.js';
import type { ResolvedTarget } from '../resolver/types.js';

/** Targets tried per call at most. */
export const MAX_TARGETS = 8;

export async function resolveTargets(resolver: SipResolver, uri: string): Promise<ResolvedTarget[]> {
  const parsed = parseUri(uri);
  const host = parsed.host.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return [];
  return (await resolver.resolve(parsed)).slice(0, MAX_TARGETS);
}
