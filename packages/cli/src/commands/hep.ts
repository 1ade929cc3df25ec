/**
 * `sipnats hep`: forwards every raw SIP message from NATS to a HEP v3 collector over UDP (Homer,
 * sngrep). The NATS callback only queues (bounded; a full queue drops and counts); a pump sends.
 * Counters are printed on stderr every --stats-interval and at exit.
 */
import { HOST_PORT_PATTERN, loadConfig, natsChecks, parseHostPort, setting } from '@sipnats/config';
import { EXIT, UsageError, parseFlags } from '../io.js';
import type { CliIo, ExitCode } from '../io.js';
import { HepForwarder } from '../hep/hep-forwarder.js';
import type { ForwarderStats } from '../hep/hep-forwarder.js';
import { openUdpSender } from '../hep/udp-sender.js';
import { feedSettings, runRawFeed } from '../tail/raw-feed.js';

export const hepUsage = `usage: sipnats hep [options]
  Forwards every SIP message received and sent by every transport instance to a HEP v3 (EEP)
  collector over UDP (Homer, sngrep -L udp:HOST:PORT).

  --collector HOST:PORT   collector address (setting HEP_COLLECTOR; default 127.0.0.1:9060)
  --capture-id N          capture agent id, 0..4294967295 (HEP_CAPTURE_ID; default 2001)
  --queue N               messages buffered while the collector is slow (HEP_QUEUE; default 10000);
                          when full, new messages are dropped and counted
  --stats-interval S      print counters every S seconds, 0 for only at exit (default 60)
  --no-correlation        leave out the correlation id chunk (the Call-ID)

  The collector password (auth key chunk) comes from HEP_PASSWORD only, never the command line.
  NATS settings: NATS_URL, NATS_CREDS..., SIPNATS_PREFIX. Ctrl-C stops (after sending what is queued).
`;

export const hepSettings = {
  ...feedSettings,
  hep: {
    collector: setting.string('HEP_COLLECTOR', { doc: 'HEP collector host:port (UDP)', default: '127.0.0.1:9060', pattern: HOST_PORT_PATTERN }),
    captureId: setting.int('HEP_CAPTURE_ID', { doc: 'HEP capture agent id', default: 2001, min: 0, max: 4_294_967_295 }),
    password: setting.string('HEP_PASSWORD', { doc: 'HEP collector password (auth key chunk)', secret: true, optional: true }),
    queue: setting.int('HEP_QUEUE', { doc: 'HEP send queue capacity (messages)', default: 10_000, min: 1, max: 1_000_000 }),
  },
} as const;

const FLUSH_TIMEOUT_MS = 2_000;
const ERROR_REPORT_MS = 10_000;

interface HepArgs {
  readonly collector: { host: string; port: number };
  readonly captureId: number;
  readonly queue: number;
  readonly statsMs: number;
  readonly correlate: boolean;
}

function intArg(name: string, text: string, min: number, max: number): number {
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${name} must be an integer ${min}..${max}`);
  return Number(text);
}

function parseHepArgs(args: readonly string[], c: ReturnType<typeof loadHepConfig>): HepArgs {
  const values = parseFlags(args, {
    collector: { type: 'string' },
    'capture-id': { type: 'string' },
    queue: { type: 'string' },
    'stats-interval': { type: 'string' },
    'no-correlation': { type: 'boolean' },
  });
  const collectorText = values.collector ?? c.hep.collector;
  if (!HOST_PORT_PATTERN.test(collectorText)) throw new UsageError(`--collector must be HOST:PORT or [V6]:PORT, not ${JSON.stringify(collectorText)}`);
  const collector = parseHostPort(collectorText);
  if (collector.port === 0 || collector.port > 65535) throw new UsageError('--collector port must be 1..65535');
  return {
    collector,
    captureId: values['capture-id'] === undefined ? c.hep.captureId : intArg('capture-id', values['capture-id'], 0, 4_294_967_295),
    queue: values.queue === undefined ? c.hep.queue : intArg('queue', values.queue, 1, 1_000_000),
    statsMs: values['stats-interval'] === undefined ? 60_000 : intArg('stats-interval', values['stats-interval'], 0, 86_400) * 1000,
    correlate: values['no-correlation'] !== true,
  };
}

function loadHepConfig() {
  return loadConfig(hepSettings, undefined, { checks: [(c) => natsChecks(c.nats)] });
}

/** `forwarded 12, dropped 0 (queue full), invalid 0, send errors 0, pending 0` */
export function formatHepStats(s: ForwarderStats): string {
  return `received ${s.received}, forwarded ${s.forwarded}, dropped ${s.dropped} (queue full), invalid ${s.invalid}, send errors ${s.sendErrors}, pending ${s.pending}`;
}

export async function runHep(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const config = loadHepConfig();
  const a = parseHepArgs(args, config);
  let lastErrorReport = 0;
  const reportError = (err: Error): void => {
    const now = Date.now();
    if (now - lastErrorReport < ERROR_REPORT_MS) return;
    lastErrorReport = now;
    io.stderr(`sipnats hep: sending to the collector failed: ${err.message}\n`);
  };
  let sender;
  try {
    sender = await openUdpSender(a.collector.host, a.collector.port, reportError);
  } catch (err) {
    io.stderr(`sipnats hep: cannot open a UDP socket to ${a.collector.host}:${a.collector.port}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  }
  const forwarder = new HepForwarder({
    identity: { captureId: a.captureId, authKey: config.hep.password, correlate: a.correlate },
    queueSize: a.queue,
    sender,
    onSendError: reportError,
  });
  io.stderr(`sipnats hep: sending HEP v3 to ${sender.target} (capture id ${a.captureId})\n`);

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let last = '';
  const stats = a.statsMs > 0
    ? setInterval(() => {
        const line = formatHepStats(forwarder.stats());
        if (line !== last) io.stderr(`sipnats hep: ${line}\n`);
        last = line;
      }, a.statsMs)
    : undefined;
  try {
    await runRawFeed({ config, name: 'sipnats hep', io, onRecord: (r) => forwarder.offer(r), stop: stop.signal });
    await forwarder.flush(FLUSH_TIMEOUT_MS);
  } finally {
    clearInterval(stats);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sender.close();
  }
  io.stderr(`sipnats hep: ${formatHepStats(forwarder.stats())}\n`);
  return EXIT.ok;
}
