/**
 * A flow is gone: the registrations bound to it are removed, so calls stop trying them.
 * - `<p>.evt.flow.closed` (a FlowEvent from the transport instance that held the connection, queue
 *   group `ua`, so one ua instance handles each): every binding on that flow of every AoR that the
 *   flow index names for it, then the index entry.
 * - A 430 Flow Failed to a bridge leg (the event was lost, or the flow died without one): that
 *   leg's binding only (registrar/unbind.ts says why).
 * Each removal is a CAS write of the AoR's binding set and publishes `unregistered` with the
 * reason once (only the instance whose write won publishes). The work per event is bounded: one
 * index read, at most MAX_FLOW_AORS AoRs (a read and at most a write each), one delete, repeated
 * at most MAX_PASSES times when a REGISTER on the closing connection added an AoR meanwhile.
 * Repeated or late events find nothing left to remove.
 */
import { decodeJson, FlowEvent } from '@sipnats/contracts';
import { isConnectionFlow } from '../registrar/binding.js';
import { unbindWithStore, type BindingRef, type UnbindTarget } from '../registrar/unbind.js';
import type { UaContext } from './context.js';
import { publishRegEvent } from './events.js';

/** Passes over one flow's index entry at most. */
const MAX_PASSES = 3;

/** A FlowEvent from NATS, or undefined (counted and logged at debug) when it is not one. */
export function decodeFlowEvent(ctx: UaContext, data: Uint8Array): FlowEvent | undefined {
  const r = decodeJson(FlowEvent, data);
  if (r.ok) return r.value;
  ctx.metrics.flowEvents.inc({ result: 'invalid' });
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ errors: r.errors }, 'invalid flow event dropped');
  return undefined;
}

async function unbind(ctx: UaContext, aor: string, target: UnbindTarget, reason: string, metric: 'flow-closed' | 'flow-failed'): Promise<number> {
  try {
    const events = await unbindWithStore(ctx.bindings, aor, target, reason);
    for (const ev of events) publishRegEvent(ctx, ev);
    if (events.length > 0) ctx.metrics.bindingsRemoved.inc({ reason: metric }, events.length);
    return events.length;
  } catch (err) {
    // Contended or KV trouble: the binding stays until a 430 or its expiry removes it.
    ctx.log.warn({ err: err instanceof Error ? err.message : String(err), aor, flow: target.flow.id }, 'bindings of a gone flow not removed');
    return 0;
  }
}

/** `<p>.evt.flow.closed`: removes the bindings on that flow; returns how many went. */
export async function handleFlowClosed(ctx: UaContext, ev: FlowEvent): Promise<number> {
  const store = ctx.flowIndex?.store;
  if (store === undefined || !isConnectionFlow(ev.flow)) {
    ctx.metrics.flowEvents.inc({ result: 'ignored' });
    return 0;
  }
  const reason = `flow closed (${ev.reason})`;
  let removed = 0;
  let pass = 0;
  try {
    for (; pass < MAX_PASSES; pass++) {
      const entry = await store.get(ev.flow);
      if (entry === undefined) break;
      for (const aor of entry.value.aors) removed += await unbind(ctx, aor, { flow: ev.flow }, reason, 'flow-closed');
      if (await store.delete(ev.flow, entry.revision)) break;
    }
  } catch (err) {
    // The index could not be read or cleared (KV unavailable, a corrupt entry): what was not
    // removed goes with a 430 or its expiry; a stale entry with the bucket's max age.
    ctx.metrics.flowEvents.inc({ result: 'failed' });
    ctx.log.warn({ err: err instanceof Error ? err.message : String(err), flow: ev.flow.id, instance: ev.flow.instance, removed }, 'flow closed: its registrations not (all) removed');
    return removed;
  }
  ctx.metrics.flowEvents.inc({ result: 'handled' });
  const fields = { flow: ev.flow.id, instance: ev.flow.instance, reason: ev.reason, removed, passes: pass + 1 };
  if (removed > 0) ctx.log.info(fields, 'flow closed: its registrations removed');
  else if (ctx.log.isLevelEnabled('debug')) ctx.log.debug(fields, 'flow closed: no registrations on it');
  return removed;
}

/** A 430 Flow Failed to a call to `binding`: that binding is removed. */
export async function handleFlowFailed(ctx: UaContext, binding: BindingRef): Promise<number> {
  const removed = await unbind(ctx, binding.aor, { flow: binding.flow, contact: binding.contact }, 'flow failed (430)', 'flow-failed');
  if (removed > 0) ctx.log.info({ aor: binding.aor, flow: binding.flow.id, instance: binding.flow.instance }, 'flow failed (430): binding removed');
  return removed;
}
