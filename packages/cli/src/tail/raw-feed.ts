/**
 * The NATS side of `sipnats tail` and `sipnats hep`: connects (retrying until NATS answers or the
 * command is stopped), subscribes to every instance's raw subjects (`<p>.raw.in.*`, `<p>.raw.out.*`),
 * hands each decoded message to `onRecord` from the subscription callback, reports outages on
 * stderr, and drains on stop. Nothing here formats output.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BusError, connectBus } from '@sipnats/bus';
import type { Bus, BusTlsOptions, Msg } from '@sipnats/bus';
import { commonSettings, natsSettings } from '@sipnats/config';
import type { ConfigOf, DeepReadonly } from '@sipnats/config';
import { subjects } from '@sipnats/contracts';
import { createLogger } from '@sipnats/logging';
import type { CliIo } from '../io.js';
import { decodeRaw } from './raw-record.js';
import type { RawInput, RawRecord } from './raw-record.js';

/** Settings every raw-feed command reads: NATS connection and subject prefix. */
export const feedSettings = { nats: natsSettings, prefix: commonSettings.prefix } as const;
export type FeedConfig = DeepReadonly<ConfigOf<typeof feedSettings>>;

export interface RawFeedOptions {
  readonly config: FeedConfig;
  /** Connection name shown by the server, and the prefix of messages on stderr (`sipnats tail`). */
  readonly name: string;
  readonly io: CliIo;
  readonly onRecord: (r: RawRecord) => void;
  /** Aborting stops the feed: subscriptions drain, the connection closes, `runRawFeed` resolves. */
  readonly stop: AbortSignal;
  /** Called once the subscriptions are active on the server. */
  readonly onReady?: () => void;
  readonly now?: () => number;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5_000;

function adapt(msg: Msg): RawInput {
  return {
    subject: msg.subject,
    data: msg.data,
    header(name: string): string | undefined {
      const v = msg.headers?.get(name);
      return v === undefined || v === '' ? undefined : v;
    },
  };
}

/** TLS options for connectBus: files when any is configured, else the NATS_TLS flag. */
function natsTls(n: FeedConfig['nats']): BusTlsOptions | boolean {
  const files: BusTlsOptions = {};
  if (n.tlsCa !== undefined) files.ca = n.tlsCa;
  if (n.tlsCert !== undefined) files.cert = n.tlsCert;
  if (n.tlsKey !== undefined) files.key = n.tlsKey;
  return Object.keys(files).length > 0 ? files : n.tls;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function connectUntilStopped(o: RawFeedOptions): Promise<Bus | undefined> {
  const n = o.config.nats;
  let delay = RETRY_MIN_MS;
  let reported = false;
  while (!o.stop.aborted) {
    try {
      return await connectBus({
        servers: n.servers,
        name: o.name.replace(/ /g, '-'),
        user: n.user,
        pass: n.password,
        token: n.token,
        credsFile: n.creds,
        tls: natsTls(n),
        log: createLogger({ name: o.name, level: 'silent' }),
        waitOnFirstConnect: false,
      });
    } catch (err) {
      if (!(err instanceof BusError)) throw err;
      if (!reported) o.io.stderr(`${o.name}: NATS unreachable (${describe(err)}); retrying\n`);
      reported = true;
      try {
        await sleep(delay, undefined, { signal: o.stop });
      } catch {
        return undefined;
      }
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }
  return undefined;
}

/** Runs until `stop` aborts or the connection closes for good. */
export async function runRawFeed(o: RawFeedOptions): Promise<void> {
  const s = subjects(o.config.prefix);
  const now = o.now ?? Date.now;
  const bus = await connectUntilStopped(o);
  if (bus === undefined) return;
  let down = false;
  const offStatus = bus.onStatus((status) => {
    if ((status.type === 'disconnect' || status.type === 'staleConnection') && !down) {
      down = true;
      o.io.stderr(`${o.name}: NATS connection lost; waiting for it to come back (messages published meanwhile are missed)\n`);
    } else if (status.type === 'reconnect' && down) {
      down = false;
      o.io.stderr(`${o.name}: NATS reconnected (${bus.nc.getServer()}); resuming\n`);
    }
  });
  const onMessage = (err: Error | null, msg: Msg): void => {
    if (err !== null) {
      o.io.stderr(`${o.name}: subscription error: ${err.message}\n`);
      return;
    }
    try {
      const r = decodeRaw(adapt(msg), s, now());
      if (r !== undefined) o.onRecord(r);
    } catch (e) {
      o.io.stderr(`${o.name}: cannot handle a message on ${msg.subject}: ${describe(e)}\n`);
    }
  };
  for (const subject of [s.rawInAll(), s.rawOutAll()]) bus.nc.subscribe(subject, { callback: onMessage });
  await bus.nc.flush();
  o.io.stderr(`${o.name}: listening on ${s.rawInAll()} and ${s.rawOutAll()} at ${bus.nc.getServer()}\n`);
  o.onReady?.();

  const stopped = new Promise<void>((resolve) => {
    if (o.stop.aborted) resolve();
    else o.stop.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([stopped, bus.closed]);
  offStatus();
  await bus.drain(5_000);
}
