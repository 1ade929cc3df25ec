import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What a command may touch: its output streams. Tests pass string sinks. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Exit codes shared by every subcommand. */
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem in its input (a message rejected, a check failed). */
  failed: 1,
  /** The command was called wrongly (unknown subcommand, missing argument, bad flag). */
  usage: 2,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class UsageError extends Error {
  readonly code = 'SIPNATS_ERR_USAGE';
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

type Flags<O extends FlagOptions> = ReturnType<typeof parseArgs<{ args: string[]; strict: true; allowPositionals: false; options: O }>>['values'];

/** The `--flag` values of a command's arguments (no positionals); a UsageError for anything else. */
export function parseFlags<const O extends FlagOptions>(args: readonly string[], options: O): Flags<O> {
  try {
    return parseArgs({ args: [...args], strict: true, allowPositionals: false, options }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
