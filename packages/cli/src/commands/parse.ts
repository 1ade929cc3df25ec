/**
 * `sipnats parse FILE...`: parses each file as one SIP message (datagram semantics) and prints one
 * JSON line per file. Exit 0 when every file parsed, 1 when any was rejected or unreadable.
 */
import { readFile } from 'node:fs/promises';
import { isSipParseError, parseMessage } from '@sipnats/sip-codec';
import type { SipMessage } from '@sipnats/sip-codec';
import { EXIT, UsageError } from '../io.js';
import type { CliIo, ExitCode } from '../io.js';

export const parseUsage = 'usage: sipnats parse FILE...\n  Parses each file as one SIP message and prints one JSON line per file.\n';

export interface ParsedLine {
  readonly file: string;
  readonly ok: true;
  readonly kind: 'request' | 'response';
  readonly method?: string;
  readonly uri?: string;
  readonly status?: number;
  readonly callId: string;
  readonly cseq: { readonly seq: number; readonly method: string };
  readonly branch: string | null;
  readonly bodyLength: number;
}

export interface RejectedLine {
  readonly file: string;
  readonly ok: false;
  readonly code: string;
  readonly offset: number | null;
  readonly message: string;
}

/** Describes one message; touching the accessors also validates the headers the line names. */
export function describeMessage(file: string, msg: SipMessage): ParsedLine {
  const common = {
    callId: msg.callId,
    cseq: { seq: msg.cseq.seq, method: msg.cseq.method },
    branch: msg.topVia.branch ?? null,
    bodyLength: msg.body.length,
  };
  return msg.kind === 'request'
    ? { file, ok: true, kind: 'request', method: msg.method, uri: msg.uri, ...common }
    : { file, ok: true, kind: 'response', status: msg.status, ...common };
}

/** Parses bytes into the line printed for them; only a SipParseError becomes a rejection. */
export function parseToLine(file: string, bytes: Uint8Array): ParsedLine | RejectedLine {
  try {
    return describeMessage(file, parseMessage(bytes));
  } catch (err) {
    if (!isSipParseError(err)) throw err;
    return { file, ok: false, code: err.code, offset: err.offset >= 0 ? err.offset : null, message: err.message };
  }
}

export async function runParse(args: readonly string[], io: CliIo): Promise<ExitCode> {
  if (args.length === 0) throw new UsageError('parse needs at least one FILE');
  const flag = args.find((a) => a.startsWith('-') && a !== '-');
  if (flag !== undefined) throw new UsageError(`parse: unknown option ${flag}`);
  let exit: ExitCode = EXIT.ok;
  for (const file of args) {
    let line: ParsedLine | RejectedLine;
    try {
      line = parseToLine(file, await readFile(file));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      line = { file, ok: false, code: `READ_${e.code ?? 'ERROR'}`, offset: null, message: e.message };
    }
    if (!line.ok) exit = EXIT.failed;
    io.stdout(`${JSON.stringify(line)}\n`);
  }
  return exit;
}
