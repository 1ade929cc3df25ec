/**
 * Answering a 401/407 for a UAC (RFC 3261 §22.2, RFC 7616 §3.3), shared by the INVITE session and
 * outbound registration: one answer per challenge set (status and realm); a repeat of an answered
 * set fails unless it says `stale=true`, which is answered once. So wrong credentials end in a
 * clear failure instead of a request loop.
 */
import { DigestClient, pickChallenge } from '../auth/digest-client.js';
import type { RandomSource } from '../ports.js';
import type { AuthValueView, Header } from '../sip-view.js';
import { MAX_AUTH_ENTRIES } from './types.js';

export interface AuthEntry {
  /** `<status>:<realm>`: one challenge set. */
  readonly key: string;
  readonly header: Header;
  /** This entry answers a stale=true repeat (no further repeat is answered). */
  readonly staleRetry: boolean;
}

export interface ChallengeInput {
  readonly status: 401 | 407;
  readonly challenges: readonly AuthValueView[];
  readonly answered: readonly AuthEntry[];
  readonly credentials: { readonly username: string; readonly password: string; readonly realm?: string | undefined } | undefined;
  readonly method: string;
  readonly requestUri: string;
  readonly random: RandomSource;
}

export type ChallengeAnswer = { readonly kind: 'retry'; readonly auth: readonly AuthEntry[] } | { readonly kind: 'fail'; readonly reason: string };

export function answerChallenge(input: ChallengeInput): ChallengeAnswer {
  const fail = (reason: string): ChallengeAnswer => ({ kind: 'fail', reason });
  const { credentials, status } = input;
  if (credentials === undefined) return fail('authentication required and no credentials given');
  const challenge = pickChallenge(input.challenges);
  if (challenge === undefined) return fail('no digest challenge we can answer');
  const realm = challenge.params.get('realm') ?? '';
  if (credentials.realm !== undefined && credentials.realm !== realm) {
    return fail(`realm ${JSON.stringify(realm)} is not ${JSON.stringify(credentials.realm)}`);
  }
  const stale = challenge.params.get('stale')?.toLowerCase() === 'true';
  const key = `${status}:${realm}`;
  const existing = input.answered.find((a) => a.key === key);
  if (existing !== undefined && (!stale || existing.staleRetry)) return fail('credentials rejected');
  if (existing === undefined && input.answered.length >= MAX_AUTH_ENTRIES) return fail('too many challenges');
  let header: Header;
  try {
    header = new DigestClient(input.random).authorize(status, [challenge], input.method, input.requestUri, {
      username: credentials.username,
      password: credentials.password,
    });
  } catch (err) {
    return fail(err instanceof Error ? err.message : 'challenge cannot be answered');
  }
  const entry: AuthEntry = { key, header, staleRetry: existing !== undefined };
  return { kind: 'retry', auth: existing === undefined ? [...input.answered, entry] : input.answered.map((a) => (a.key === key ? entry : a)) };
}
