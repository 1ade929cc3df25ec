/**
 * `sipnats tail`: prints every SIP message the transport instances receive and send, live, from the
 * raw subjects; or (`--ladder CALL-ID`) the sequence diagram of one call. The formatting, filters and
 * ladder live in ../tail/; this file parses arguments and wires them to the raw feed.
 */
import { loadConfig, natsChecks, setting } from '@sipnats/config';
import { EXIT, UsageError, parseFlags } from '../io.js';
import type { CliIo, ExitCode } from '../io.js';
import { FilterError, matchesFilter, parseStatusPattern, splitValues } from '../tail/filter.js';
import type { FilterSpec } from '../tail/filter.js';
import { formatFull, formatLine } from '../tail/format-line.js';
import { toJsonLine } from '../tail/json-line.js';
import { Ladder } from '../tail/ladder.js';
import { feedSettings, runRawFeed } from '../tail/raw-feed.js';
import type { RawRecord } from '../tail/raw-record.js';

export const tailUsage = `usage: sipnats tail [options]
  Prints every SIP message received (→) and sent (←) by every transport instance, live.

  --json              one JSON object per message (see packages/cli/README.md for the fields)
  --full              also print each whole message (with --json: the "raw" field)
  --no-color          no ANSI colors (default: colors when stdout is a terminal and NO_COLOR is unset)
  --utc               times in UTC (default: local time)
  --call-id ID        only this Call-ID
  --method M          only requests with method M and responses to them (CSeq method)
  --user U            only messages whose From or To user part is U
  --instance ID       only messages of this transport instance
  --status S          only responses with status S: a code (486) or a class (4xx)
  --ladder CALL-ID    draw the call flow of one call: redrawn live on a terminal; otherwise
                      printed once the call ends (2xx to BYE, final non-2xx to INVITE) or on exit

  Options combine with AND; a repeated option (or --method/--instance/--status with a comma list)
  matches any of its values. Ctrl-C stops. NATS settings: NATS_URL, NATS_CREDS..., SIPNATS_PREFIX.
`;

export const tailSettings = {
  ...feedSettings,
  noColor: setting.string('NO_COLOR', { doc: 'Any non-empty value turns colors off (no-color.org)', optional: true }),
} as const;

/** After the call ended, wait this long for its last messages (e.g. the ACK, the relayed 200). */
export const LADDER_LINGER_MS = 800;
const REDRAW_MS = 100;
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

interface TailArgs {
  readonly json: boolean;
  readonly full: boolean;
  readonly color: boolean;
  readonly utc: boolean;
  readonly ladder: string | undefined;
  readonly filter: FilterSpec;
}

function parseTailArgs(args: readonly string[], tty: boolean, noColorEnv: boolean): TailArgs {
  const values = parseFlags(args, {
    json: { type: 'boolean' },
    full: { type: 'boolean' },
    'no-color': { type: 'boolean' },
    utc: { type: 'boolean' },
    'call-id': { type: 'string', multiple: true },
    method: { type: 'string', multiple: true },
    user: { type: 'string', multiple: true },
    instance: { type: 'string', multiple: true },
    status: { type: 'string', multiple: true },
    ladder: { type: 'string' },
  });
  if (values.ladder !== undefined && values.json === true) throw new UsageError('--ladder and --json cannot be combined');
  if (values.ladder !== undefined && values.ladder.trim() === '') throw new UsageError('--ladder needs a Call-ID');
  let statuses;
  try {
    statuses = splitValues(values.status).map(parseStatusPattern);
  } catch (err) {
    if (err instanceof FilterError) throw new UsageError(err.message);
    throw err;
  }
  const exact = (v: readonly string[] | undefined): string[] => (v ?? []).filter((s) => s.length > 0);
  return {
    json: values.json === true,
    full: values.full === true,
    color: tty && !noColorEnv && values['no-color'] !== true && values.json !== true,
    utc: values.utc === true,
    ladder: values.ladder?.trim(),
    filter: {
      callIds: exact(values['call-id']),
      methods: splitValues(values.method),
      users: exact(values.user),
      instances: splitValues(values.instance),
      statuses,
    },
  };
}

/** Writes one record as a line or JSON object. */
function printer(a: TailArgs, io: CliIo): (r: RawRecord) => void {
  if (a.json) return (r) => io.stdout(`${JSON.stringify(toJsonLine(r, a.full))}\n`);
  return (r) => io.stdout(`${formatLine(r, { color: a.color, utc: a.utc })}\n${a.full ? `${formatFull(r)}\n\n` : ''}`);
}

export async function runTail(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const config = loadConfig(tailSettings, undefined, { checks: [(c) => natsChecks(c.nats)] });
  const tty = process.stdout.isTTY === true;
  const a = parseTailArgs(args, tty, config.noColor !== undefined);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let onRecord: (r: RawRecord) => void;
  let finish = (): void => {};
  const timers: NodeJS.Timeout[] = [];
  if (a.ladder === undefined) {
    const print = printer(a, io);
    onRecord = (r) => {
      if (matchesFilter(r, a.filter)) print(r);
    };
  } else {
    const ladder = new Ladder(a.ladder);
    const render = (): string => ladder.render({ utc: a.utc, full: a.full });
    let printed = false;
    let redraw: NodeJS.Timeout | undefined;
    let linger: NodeJS.Timeout | undefined;
    const printFinal = (): void => {
      if (printed) return;
      printed = true;
      io.stdout(ladder.size > 0 ? render() : `Call-ID: ${a.ladder}: no messages seen\n`);
    };
    onRecord = (r) => {
      if (!matchesFilter(r, a.filter) || !ladder.add(r)) return;
      if (tty) {
        redraw ??= setTimeout(() => {
          redraw = undefined;
          io.stdout(CLEAR_SCREEN + render());
        }, REDRAW_MS);
      } else if (ladder.ended) {
        clearTimeout(linger);
        linger = setTimeout(() => {
          printFinal();
          stop.abort();
        }, LADDER_LINGER_MS);
        timers.push(linger);
      }
    };
    finish = () => {
      clearTimeout(redraw);
      for (const t of timers) clearTimeout(t);
      if (tty) io.stdout(CLEAR_SCREEN + render());
      else printFinal();
    };
  }

  try {
    await runRawFeed({ config, name: 'sipnats tail', io, onRecord, stop: stop.signal });
    finish();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return EXIT.ok;
}
