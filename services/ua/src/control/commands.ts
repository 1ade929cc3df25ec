/**
 * Call commands on `<p>.cmd.call.<action>` (request/reply, queue group `ua`): validated against the
 * contracts (an invalid payload changes nothing and gets INVALID naming the problems), applied to
 * the call with KV compare-and-set (of two competing controllers exactly one wins; the loser's
 * command is re-evaluated on the fresh state and gets CONFLICT or BAD_STATE), replied with
 * CommandReply.
 */
import { CALL_ACTIONS, CALL_COMMAND_SCHEMAS, CommandReply, decodeJson, encodeJson, REPLY_CODE, type CallAction, type ReplyCode } from '@sipnats/contracts';
import type { DialogCommand } from '../dialog/commands.js';
import { isUnavailable } from '../errors.js';
import { bridge } from '../handlers/bridge.js';
import type { UaContext } from '../handlers/context.js';
import { originate } from '../handlers/outbound-call.js';
import { runCallCommand } from './call-command.js';
import { transfer } from './transfer.js';
import type { InMessage } from '../runtime/messaging.js';

/** Actions this ua carries out on a call; `originate` starts one; any other is refused with INVALID. */
const SUPPORTED_ACTIONS: ReadonlySet<CallAction> = new Set<CallAction>(['ring', 'answer', 'reject', 'redirect', 'hangup', 'info', 'update', 'originate', 'bridge', 'transfer']);

function reply(ok: true, call: string, status?: number): CommandReply;
function reply(ok: false, call: string | undefined, status: number | undefined, code: ReplyCode, error: string): CommandReply;
function reply(ok: boolean, call: string | undefined, status?: number, code?: ReplyCode, error?: string): CommandReply {
  return {
    v: 1,
    ok,
    ...(call === undefined ? {} : { call: call.slice(0, 256) }),
    ...(status === undefined ? {} : { status }),
    ...(code === undefined ? {} : { code }),
    ...(error === undefined ? {} : { error: error.slice(0, 1024) }),
  };
}

function isAction(a: string | undefined): a is CallAction {
  return a !== undefined && (CALL_ACTIONS as readonly string[]).includes(a);
}

/** Decides the reply to one command message. */
export async function executeCommand(ctx: UaContext, subject: string, data: Uint8Array): Promise<CommandReply> {
  const action = ctx.subjects.lastToken(subject, 'cmdCall');
  if (!isAction(action)) return reply(false, undefined, undefined, REPLY_CODE.INVALID, `unknown action ${JSON.stringify(action ?? subject)}`);
  const decoded = decodeJson(CALL_COMMAND_SCHEMAS[action], data);
  if (!decoded.ok) return reply(false, undefined, undefined, REPLY_CODE.INVALID, `invalid ${action} command: ${decoded.errors.join('; ')}`);
  const command = decoded.value;
  if (command.action !== action) {
    return reply(false, command.call, undefined, REPLY_CODE.INVALID, `action ${command.action} does not match the subject (${action})`);
  }
  if (!SUPPORTED_ACTIONS.has(action)) return reply(false, command.call, undefined, REPLY_CODE.INVALID, `action ${action} is not supported by this ua`);
  try {
    if (command.action === 'originate') {
      const r = await originate(ctx, command);
      return r.ok ? reply(true, command.call) : reply(false, command.call, undefined, r.code, r.error);
    }
    if (command.action === 'bridge') {
      const r = await bridge(ctx, command);
      return r.ok ? reply(true, command.call) : reply(false, command.call, undefined, r.code, r.error);
    }
    if (command.action === 'transfer') {
      const r = await transfer(ctx, command);
      return r.ok ? reply(true, command.call, r.status) : reply(false, command.call, r.status, r.code, r.error);
    }
    const r = await runCallCommand(ctx, command.call, command as DialogCommand);
    return r.ok ? reply(true, command.call, r.status) : reply(false, command.call, r.status, r.code, r.error);
  } catch (err) {
    if (isUnavailable(err)) return reply(false, command.call, undefined, REPLY_CODE.INTERNAL, 'call store unavailable; try again');
    ctx.log.error({ err, call: command.call, action }, 'command failed');
    return reply(false, command.call, undefined, REPLY_CODE.INTERNAL, 'internal error');
  }
}

/** Handles one command message: executes it and replies (when the sender asked for a reply). */
export async function handleCommandMessage(ctx: UaContext, msg: InMessage): Promise<void> {
  const started = performance.now();
  const r = await executeCommand(ctx, msg.subject, msg.data);
  const action = ctx.subjects.lastToken(msg.subject, 'cmdCall');
  ctx.metrics.commandSeconds.observe({ action: isAction(action) ? action : 'unknown', result: r.ok ? 'OK' : (r.code ?? 'INTERNAL') }, (performance.now() - started) / 1000);
  if (msg.reply !== undefined) ctx.messaging.publish(msg.reply, encodeJson(CommandReply, r));
}

/** The reply for a command refused before it ran (queue full, draining). */
export function busyReply(error: string): Uint8Array {
  return encodeJson(CommandReply, reply(false, undefined, undefined, REPLY_CODE.INTERNAL, error));
}
