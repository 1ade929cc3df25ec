/**
 * A throwaway FreeSWITCH for the mod_sipnats suites: finds the installed FreeSWITCH with
 * `pkg-config freeswitch` (FreeSWITCH is not packaged for Debian, so suites skip when it does not
 * answer), builds mod_sipnats against it, writes a config tree into a temp dir (console, logfile,
 * event socket on a free loopback port, the modules asked for, mod_sipnats with the given
 * parameters) and starts `freeswitch -nonat -nc -nf` on it; plus the event socket client the
 * suites drive it with.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Subscription } from '@nats-io/transport-node';
import { stopProcess, waitForTcp } from './nats-server.js';
import { freePort } from './ports.js';

export const SHIM_DIR = fileURLToPath(new URL('../../packages/fs-shim/', import.meta.url));
const ESL_PASSWORD = 'sipnats-test';

interface EslMessage {
  readonly headers: Map<string, string>;
  readonly body: string;
}

/** The FreeSWITCH event socket text protocol, just enough for `auth` and `api` commands. */
export class EslClient {
  private buf = Buffer.alloc(0);
  private readonly waiters: Array<(m: EslMessage) => void> = [];
  private readonly queued: EslMessage[] = [];

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
  }

  static async connect(host: string, port: number, password: string): Promise<EslClient> {
    const sock = netConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const c = new EslClient(sock);
    const hello = await c.next(10_000);
    if (hello.headers.get('Content-Type') !== 'auth/request') throw new Error('event socket: no auth/request');
    sock.write(`auth ${password}\n\n`);
    const reply = await c.next(10_000);
    if (!(reply.headers.get('Reply-Text') ?? '').startsWith('+OK')) throw new Error(`event socket auth: ${reply.headers.get('Reply-Text')}`);
    return c;
  }

  /** Runs an API command; resolves with its output. One command at a time. */
  async api(cmd: string): Promise<string> {
    this.sock.write(`api ${cmd}\n\n`);
    for (;;) {
      const m = await this.next(30_000);
      if (m.headers.get('Content-Type') === 'api/response') return m.body;
    }
  }

  close(): void {
    this.sock.destroy();
  }

  private next(timeoutMs: number): Promise<EslMessage> {
    const ready = this.queued.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('event socket: no reply')), timeoutMs);
      this.waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\n\n');
      if (end < 0) return;
      const headers = new Map<string, string>();
      for (const line of this.buf.subarray(0, end).toString('utf8').split('\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      const len = Number(headers.get('Content-Length') ?? '0');
      if (this.buf.length < end + 2 + len) return;
      const body = this.buf.subarray(end + 2, end + 2 + len).toString('utf8');
      this.buf = this.buf.subarray(end + 2 + len);
      const m = { headers, body };
      const w = this.waiters.shift();
      if (w !== undefined) w(m);
      else this.queued.push(m);
    }
  }
}

function pkgConfig(...args: string[]): string | undefined {
  try {
    return execFileSync('pkg-config', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export interface FreeswitchInstall {
  readonly version: string;
  readonly prefix: string;
  readonly modulesDir: string;
}

/** The installed FreeSWITCH (`pkg-config freeswitch`), or undefined when there is none. */
export function findFreeswitch(): FreeswitchInstall | undefined {
  const version = pkgConfig('--modversion', 'freeswitch');
  if (version === undefined) return undefined;
  return { version, prefix: pkgConfig('--variable=prefix', 'freeswitch') ?? '', modulesDir: pkgConfig('--variable=modulesdir', 'freeswitch') ?? '' };
}

/** The message a suite prints when it skips for want of FreeSWITCH. */
export const NO_FREESWITCH = 'skipped: FreeSWITCH not installed (pkg-config freeswitch does not answer)';

export interface FreeswitchOptions {
  readonly install: FreeswitchInstall;
  /** mod_sipnats parameters (sipnats.conf.xml `<param>`s), in order. */
  readonly sipnats: ReadonlyArray<readonly [string, string]>;
  /** Modules loaded besides console, logfile, event_socket, commands, dptools (before mod_sipnats). */
  readonly modules?: readonly string[];
  /** Further `<configuration>` elements (e.g. sofia.conf). */
  readonly configurations?: string;
  /** `<context>` elements of the XML dialplan. */
  readonly dialplan?: string;
}

export interface FreeswitchProcess {
  readonly base: string;
  readonly child: ChildProcess;
  /** Runs an API command over the event socket. */
  api(cmd: string): Promise<string>;
  /** The last lines of freeswitch.log (for failure messages). */
  logTail(lines?: number): string;
  /** Stops FreeSWITCH (SIGTERM, SIGKILL after 15 s) and removes its directory. */
  stop(): Promise<void>;
}

const xmlAttr = (v: string): string => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function configXml(eslPort: number, o: FreeswitchOptions): string {
  const modules = ['mod_console', 'mod_logfile', 'mod_event_socket', 'mod_commands', 'mod_dptools', ...(o.modules ?? []), 'mod_sipnats'];
  const params = o.sipnats.map(([n, v]) => `        <param name="${xmlAttr(n)}" value="${xmlAttr(v)}"/>`).join('\n');
  return `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration" description="sipnats test">
    <configuration name="switch.conf" description="Core">
      <settings>
        <param name="loglevel" value="debug"/>
        <param name="max-sessions" value="50"/>
        <param name="rtp-start-port" value="${40000 + (eslPort % 1000) * 10}"/>
        <param name="rtp-end-port" value="${40009 + (eslPort % 1000) * 10}"/>
      </settings>
    </configuration>
    <configuration name="modules.conf" description="Modules">
      <modules>
${modules.map((m) => `        <load module="${m}"/>`).join('\n')}
      </modules>
    </configuration>
    <configuration name="console.conf" description="Console">
      <mappings><map name="all" value="console,debug,info,notice,warning,err,crit,alert"/></mappings>
      <settings><param name="colorize" value="false"/><param name="loglevel" value="info"/></settings>
    </configuration>
    <configuration name="logfile.conf" description="File logging">
      <profiles><profile name="default"><settings><param name="rollover" value="0"/></settings>
        <mappings><map name="all" value="debug,info,notice,warning,err,crit,alert"/></mappings></profile></profiles>
    </configuration>
    <configuration name="event_socket.conf" description="Event socket">
      <settings>
        <param name="listen-ip" value="127.0.0.1"/>
        <param name="listen-port" value="${eslPort}"/>
        <param name="password" value="${ESL_PASSWORD}"/>
      </settings>
    </configuration>
    <configuration name="sipnats.conf" description="sipnats">
      <settings>
${params}
      </settings>
    </configuration>
${o.configurations ?? ''}
  </section>
  <section name="dialplan" description="sipnats test dialplan">
${o.dialplan ?? ''}
  </section>
</document>
`;
}

/**
 * Builds mod_sipnats (`make -C packages/fs-shim module`) and starts FreeSWITCH with a private
 * module dir (the installed modules plus the fresh mod_sipnats.so); resolves once the event socket
 * accepts the password. On failure everything started is stopped again.
 */
export async function startFreeswitch(o: FreeswitchOptions): Promise<FreeswitchProcess> {
  execFileSync('make', ['-s', '-C', SHIM_DIR, 'module'], { stdio: 'inherit' });
  const base = mkdtempSync(join(tmpdir(), 'sipnats-fs-'));
  for (const d of ['conf', 'log', 'db', 'run', 'mod', 'temp']) mkdirSync(join(base, d));
  for (const f of readdirSync(o.install.modulesDir)) if (f.endsWith('.so')) symlinkSync(join(o.install.modulesDir, f), join(base, 'mod', f));
  symlinkSync(join(SHIM_DIR, 'build', 'mod_sipnats.so'), join(base, 'mod', 'mod_sipnats.so'));
  const eslPort = await freePort();
  writeFileSync(join(base, 'conf', 'freeswitch.xml'), configXml(eslPort, o));
  const child = spawn(
    join(o.install.prefix, 'bin', 'freeswitch'),
    ['-nonat', '-nc', '-nf', '-base', base, '-conf', join(base, 'conf'), '-log', join(base, 'log'), '-db', join(base, 'db'),
      '-run', join(base, 'run'), '-mod', join(base, 'mod'), '-temp', join(base, 'temp')],
    { stdio: 'ignore' },
  );
  const logTail = (lines = 60): string => {
    try {
      return readFileSync(join(base, 'log', 'freeswitch.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  let esl: EslClient | undefined;
  const stop = async (): Promise<void> => {
    esl?.close();
    await stopProcess(child, 'SIGTERM', 15_000);
    rmSync(base, { recursive: true, force: true });
  };
  try {
    await waitForTcp('127.0.0.1', eslPort, 30_000);
    esl = await EslClient.connect('127.0.0.1', eslPort, ESL_PASSWORD);
  } catch (err) {
    const tail = logTail();
    await stop();
    throw new Error(`FreeSWITCH did not start: ${err instanceof Error ? err.message : String(err)}\n${tail}`);
  }
  const client = esl;
  return { base, child, api: (cmd) => client.api(cmd), logTail, stop };
}

/** Collects every message of a subscription (subject and parsed JSON) as it arrives. */
export function collect(sub: Subscription): Array<{ subject: string; body: Record<string, unknown> }> {
  const got: Array<{ subject: string; body: Record<string, unknown> }> = [];
  void (async () => {
    for await (const m of sub) got.push({ subject: m.subject, body: m.json<Record<string, unknown>>() });
  })();
  return got;
}

/** Polls `check` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
