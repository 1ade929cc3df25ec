/**
 * Helpers for the "secrets never logged" suite: a service process started with exactly the given
 * environment (for runs that never become ready), a SIP UAS on UDP that challenges every INVITE
 * with digest and records the Authorization it is sent, and a leak finder that also looks inside
 * base64 runs (a raw SIP message logged as base64 would hide a header from a plain search).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { stopProcess } from './nats-server.js';

export interface LoggedProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<number | null>;
}

/** Starts `node main` with `env` plus PATH and keeps every output line. */
export function spawnLogged(main: string, env: Readonly<Record<string, string>>): LoggedProcess {
  const child = spawn(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (b: Buffer): void => {
    for (const line of b.toString('utf8').split('\n')) if (line !== '') lines.push(line);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    lines,
    async waitForLine(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find((l) => pattern.test(l));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no line matching ${pattern}:\n${lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () => stopProcess(child, 'SIGTERM', 5000),
  };
}

export interface ChallengingUas {
  readonly port: number;
  /** Authorization header values of the INVITEs received. */
  readonly authorizations: string[];
  close(): void;
}

function header(text: string, name: string): string[] {
  return [...text.matchAll(new RegExp(`^${name}[ \\t]*:[ \\t]*(.*)$`, 'gim'))].map((m) => (m[1] ?? '').trim());
}

/**
 * A UDP UAS on 127.0.0.1: answers an INVITE without Authorization with 401 (MD5 digest, realm
 * `realm`), an INVITE with one with 486 (recording the header), and ignores ACKs.
 */
export function startChallengingUas(realm: string): Promise<ChallengingUas> {
  const socket: Socket = createSocket('udp4');
  const authorizations: string[] = [];
  socket.on('message', (m, rinfo) => {
    const text = m.toString('latin1');
    const method = /^([A-Z]+) /.exec(text)?.[1];
    if (method !== 'INVITE') return;
    const auth = header(text, 'Authorization')[0];
    if (auth !== undefined) authorizations.push(auth);
    const vias = header(text, 'Via').map((v) => `Via: ${v}`);
    const lines = [
      auth === undefined ? 'SIP/2.0 401 Unauthorized' : 'SIP/2.0 486 Busy Here',
      ...vias,
      `From: ${header(text, 'From')[0] ?? ''}`,
      `To: ${header(text, 'To')[0] ?? ''};tag=uas${authorizations.length}`,
      `Call-ID: ${header(text, 'Call-ID')[0] ?? ''}`,
      `CSeq: ${header(text, 'CSeq')[0] ?? ''}`,
      ...(auth === undefined ? [`WWW-Authenticate: Digest realm="${realm}", nonce="n${Date.now().toString(16)}", qop="auth", algorithm=MD5`] : []),
      'Content-Length: 0',
      '',
      '',
    ];
    socket.send(Buffer.from(lines.join('\r\n'), 'latin1'), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => resolve({ port: socket.address().port, authorizations, close: () => socket.close() }));
  });
}

/** Every `secret` that occurs in `lines`, also inside base64 runs of at least 16 characters. */
export function findLeaks(lines: readonly string[], secrets: readonly string[]): string[] {
  const text = lines.join('\n');
  const decoded = [...text.matchAll(/[A-Za-z0-9+/]{16,}={0,2}/g)].map((m) => Buffer.from(m[0], 'base64').toString('latin1')).join('\n');
  return secrets.filter((s) => s !== '' && (text.includes(s) || decoded.includes(s)));
}
