/**
 * REGISTER: digest authentication (RFC 7616 via the auth core), then RFC 3261 §10.3 against the
 * KV binding store with CAS (registrar core), then events `registered|refreshed|unregistered|expired`.
 */
import type { SipRequest } from '@sipnats/sip-codec';
import { canonicalAor } from '../registrar/aor.js';
import { RegistrarConflictError, registerWithStore } from '../registrar/register-with-store.js';
import { respond } from '../response.js';
import type { RequestOrigin, UaContext } from './context.js';
import { publishRegEvent } from './events.js';
import { sendResponse } from './send.js';

function decodeUser(user: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

export async function handleRegister(ctx: UaContext, req: SipRequest, origin: RequestOrigin, toTag: string): Promise<void> {
  const now = ctx.clock();
  const reply = (status: number, headers: (readonly [string, string])[] = []): void =>
    sendResponse(ctx, origin.instance, origin.txn, 'REGISTER', respond(req, status, { toTag, headers }));
  let authenticatedUser: string | undefined;
  if (ctx.auth !== undefined) {
    const result = await ctx.auth.verify({
      method: req.method,
      requestUri: req.uri,
      credentials: req.authorization,
      now,
    });
    if (result.kind === 'challenge') {
      if (result.reason !== 'no-credentials') ctx.metrics.authFailures.inc({ reason: result.reason });
      reply(result.status, [...result.headers]);
      return;
    }
    if (result.kind !== 'ok') {
      ctx.metrics.authFailures.inc({ reason: result.reason });
      reply(result.status);
      publishRegEvent(ctx, {
        event: 'failed',
        aor: canonicalAor(req.to.uri) ?? req.to.uri.raw,
        contact: req.contacts[0]?.uri.raw ?? '',
        expires: 0,
        flow: origin.flow,
        reason: result.kind === 'forbidden' ? `authentication failed: ${result.reason}` : `bad credentials: ${result.detail}`,
      });
      return;
    }
    authenticatedUser = result.user.username;
    // The digest user registers its own AoR only (§10.3 step 4); the core checks it against To.
    if (decodeUser(req.to.uri.user) !== authenticatedUser) ctx.log.debug({ user: authenticatedUser }, 'digest user differs from To user');
  }
  let outcome;
  try {
    outcome = await registerWithStore(
      ctx.bindings,
      ctx.registrar,
      {
        request: req,
        flow: origin.flow,
        now,
        toTag,
        ...(authenticatedUser === undefined ? {} : { authenticatedUser }),
      },
      { flows: ctx.flowIndex },
    );
  } catch (err) {
    if (!(err instanceof RegistrarConflictError)) throw err;
    // Other writers kept winning (a registration storm on one AoR): transient, so say when to retry.
    ctx.log.warn({ err: err.message, callId: req.callId }, 'REGISTER gave up on a contended AoR');
    reply(500, [['Retry-After', String(ctx.policy.retryAfter)]]);
    return;
  }
  sendResponse(ctx, origin.instance, origin.txn, 'REGISTER', outcome.response);
  for (const ev of outcome.events) publishRegEvent(ctx, ev);
}
