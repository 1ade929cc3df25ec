/**
 * The `transfer` command (blind transfer, RFC 3515): the dialog core sends REFER in the call's
 * dialog (control/call-command.ts, CAS like every command) and the reply waits for the REFER's final
 * response: 2xx → ok with its status; 408 → TIMEOUT; any other → BAD_STATE; both with the status.
 * The wait is bounded: ClientTransactions hand every request a final response (the transport's
 * Timer F 408, a local 503 when no transport listens, a local 408 after 64·T1 + 8 s), and a local
 * timer a little longer covers a request that was never sent. The peer's NOTIFYs then arrive as
 * in-dialog requests and become `transferred` events (dialog/transfer.ts).
 */
import { REPLY_CODE, type ResponseEnvelope, type TransferCommand } from '@sipnats/contracts';
import { t1 } from '../dialog/builders.js';
import type { UaContext } from '../handlers/context.js';
import { runCallCommand, type CallCommandOutcome } from './call-command.js';

/** Beyond the ClientTransactions' own bound (64·T1 + 8 s): only a request that never went out gets here. */
const SAFETY_MS = 10_000;

export async function transfer(ctx: UaContext, command: TransferCommand): Promise<CallCommandOutcome> {
  let settle: (response: ResponseEnvelope | undefined) => void = () => undefined;
  const final = new Promise<ResponseEnvelope | undefined>((resolve) => {
    settle = resolve;
  });
  const started = await runCallCommand(
    ctx,
    command.call,
    { action: 'transfer', target: command.target, ...(command.headers === undefined ? {} : { headers: command.headers }) },
    { onFinal: (response) => settle(response) },
  );
  if (!started.ok) return started;
  const timer = setTimeout(() => settle(undefined), 64 * t1(ctx.dialog) + SAFETY_MS);
  timer.unref();
  const response = await final;
  clearTimeout(timer);
  if (response === undefined) return { ok: false, code: REPLY_CODE.TIMEOUT, error: 'no final response to the REFER' };
  if (response.status < 300) return { ok: true, status: response.status };
  return {
    ok: false,
    code: response.status === 408 ? REPLY_CODE.TIMEOUT : REPLY_CODE.BAD_STATE,
    status: response.status,
    error: `the peer answered the REFER with ${response.status} ${response.reason}`.trim(),
  };
}
