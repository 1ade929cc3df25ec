/** The sipnats command line: dispatches a subcommand; returns the process exit code. */
import { ConfigError } from '@sipnats/config';
import { EXIT, UsageError } from './io.js';
import type { CliIo, ExitCode } from './io.js';
import { parseUsage, runParse } from './commands/parse.js';
import { runUp, upUsage } from './commands/up.js';
import { runTail, tailUsage } from './commands/tail.js';
import { hepUsage, runHep } from './commands/hep.js';

type Command = { readonly run: (args: readonly string[], io: CliIo) => Promise<ExitCode>; readonly usage: string; readonly summary: string };

export const COMMANDS: Readonly<Record<string, Command>> = {
  parse: { run: runParse, usage: parseUsage, summary: 'parse SIP messages from files, one JSON line each' },
  up: { run: runUp, usage: upUsage, summary: 'run transport + ua on a local NATS (--cluster: 3 NATS nodes, 2 transports, 2 ua)' },
  tail: { run: runTail, usage: tailUsage, summary: 'print SIP messages of every transport instance live, or a call ladder' },
  hep: { run: runHep, usage: hepUsage, summary: 'forward SIP messages to a HEP v3 collector (Homer, sngrep)' },
};

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: sipnats <command> [args]\n\ncommands:\n${lines.join('\n')}\n  ${'test'.padEnd(width)}  run the whole test suite (./sipnats test)\n`;
}

export async function main(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.stderr : io.stdout)(helpText());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  // Own keys only: `sipnats constructor` or `sipnats __proto__` is an unknown command, not Object's.
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr(`sipnats: unknown command ${JSON.stringify(name)}\n${helpText()}`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`sipnats ${name}: ${err.message}\n${command.usage}`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      io.stderr(`sipnats ${name}: invalid configuration:\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}
