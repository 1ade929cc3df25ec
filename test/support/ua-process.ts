/**
 * Spawns the real ua (`services/ua/dist/main.js`, built beforehand) and waits until /readyz answers
 * 200; plus helpers to build request envelopes from SIP text for tests that talk to it over NATS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { toBase64, type FlowRef, type RequestEnvelope } from '@sipnats/contracts';
import { parseMessage } from '@sipnats/sip-codec';
import { SERVICE_START } from '../../packages/cli/src/cluster/index.js';
import { stopProcess } from './nats-server.js';
import { freePort } from './ports.js';

export const UA_MAIN = fileURLToPath(new URL('../../services/ua/dist/main.js', import.meta.url));
export const UA_TEST_SECRET = 'integration-ua-nonce-secret-0123456789';

export interface UaProcess {
  readonly child: ChildProcess;
  readonly instance: string;
  readonly httpPort: number;
  readonly logs: string[];
  http(path: string): Promise<{ status: number; body: string }>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export async function startUa(o: {
  natsUrl: string;
  instance: string;
  env?: Readonly<Record<string, string>>;
  /** Extra Node.js options before the script (e.g. `--cpu-prof`). */
  nodeArgs?: readonly string[];
}): Promise<UaProcess> {
  const httpPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    NATS_URL: o.natsUrl,
    SIPNATS_INSTANCE_ID: o.instance,
    SIPNATS_AUTH_SECRET: UA_TEST_SECRET,
    HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    LOG_LEVEL: process.env['SIPNATS_TEST_LOG_LEVEL'] ?? 'warn',
    ...o.env,
  };
  const child = spawn(process.execPath, [...SERVICE_START.ua.nodeArgs, ...(o.nodeArgs ?? []), UA_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(line);
    if (logs.length > 5000) logs.splice(0, logs.length - 5000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const http = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`);
    return { status: res.status, body: await res.text() };
  };
  const proc: UaProcess = { child, instance: o.instance, httpPort, logs, http, stop: (signal = 'SIGTERM', timeoutMs = 10_000) => stopProcess(child, signal, timeoutMs) };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ua exited with ${child.exitCode}:\n${logs.join('\n')}`);
    try {
      if ((await http('/readyz')).status === 200) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`ua not ready:\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const TEST_FLOW: FlowRef = { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', id: 'udp0/127.0.0.1:5070' };

export function sipText(lines: readonly string[], body = ''): Buffer {
  return Buffer.from(`${[...lines, `Content-Length: ${Buffer.byteLength(body)}`].join('\r\n')}\r\n\r\n${body}`);
}

let seq = 0;

/** A RequestEnvelope for SIP text, as the transport would publish it. */
export function envelopeOf(raw: Buffer, o: { txn?: string | null; cancels?: string; flow?: FlowRef } = {}): RequestEnvelope {
  const m = parseMessage(raw);
  if (m.kind !== 'request') throw new Error('not a request');
  const info = (na: typeof m.from) => ({ uri: na.uri.raw, ...(na.tag === undefined ? {} : { tag: na.tag }) });
  const txn = o.txn === null ? undefined : (o.txn ?? `it-txn-${process.pid}-${++seq}`);
  const flow = o.flow ?? TEST_FLOW;
  return {
    v: 1,
    instance: flow.instance,
    flow,
    ...(txn === undefined ? {} : { txn }),
    receivedAt: Date.now(),
    method: m.method,
    uri: m.uri,
    callId: m.callId,
    cseq: { seq: m.cseq.seq, method: m.cseq.method },
    from: info(m.from),
    to: info(m.to),
    branch: m.topVia.branch ?? 'z9hG4bK-none',
    ...(o.cancels === undefined ? {} : { cancels: o.cancels }),
    raw: toBase64(raw),
  };
}

/** `Authorization` value answering an MD5 qop=auth challenge (RFC 7616). */
export function digestAuthorization(challenge: string, o: { user: string; password: string; method: string; uri: string; nc: number; cnonce?: string }): string {
  const param = (name: string): string => new RegExp(`${name}="?([^",]*)"?`).exec(challenge)?.[1] ?? '';
  const realm = param('realm');
  const nonce = param('nonce');
  const opaque = param('opaque');
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const nc = o.nc.toString(16).padStart(8, '0');
  const cnonce = o.cnonce ?? 'abcdef';
  const response = md5(`${md5(`${o.user}:${realm}:${o.password}`)}:${nonce}:${nc}:${cnonce}:auth:${md5(`${o.method}:${o.uri}`)}`);
  return `Digest username="${o.user}", realm="${realm}", nonce="${nonce}", uri="${o.uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", opaque="${opaque}", qop=auth, nc=${nc}`;
}
