/**
 * The README's run command: `sipnats up` starts a nats-server when none answers on NATS_URL, runs
 * transport + ua on it, answers SIP, and Ctrl-C (SIGINT) drains everything and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { stopProcess, waitForTcp } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { runSipp } from '../support/sipp.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repoRoot, 'packages', 'cli', 'dist', 'bin.js');

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

async function optionsAnswered(sipPort: number, deadlineMs: number): Promise<string> {
  const until = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < until) {
    const r = await runSipp({ scenario: 'uac-options.xml', remote: `127.0.0.1:${sipPort}`, calls: 1, timeoutMs: 3000 });
    if (r.code === 0) return '';
    last = r.output.slice(-2000);
    await new Promise((res) => setTimeout(res, 300));
  }
  return last;
}

describe('quick start: sipnats up', function () {
  this.timeout(90_000);
  let up: ChildProcess | undefined;
  let stateDir = '';
  let output = '';

  afterEach(async () => {
    if (up !== undefined) await stopProcess(up, 'SIGKILL', 1000);
    up = undefined;
    if (stateDir !== '') rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts NATS when none answers, serves SIP through transport + ua, and stops cleanly on SIGINT', async () => {
    const [natsPort, sipPort] = [await freePort(), await freePort()];
    stateDir = mkdtempSync(join(tmpdir(), 'sipnats-up-'));
    up = spawn(process.execPath, [cli, 'up'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NATS_URL: `nats://127.0.0.1:${natsPort}`,
        SIPNATS_STATE_DIR: stateDir,
        SIP_LISTEN: `udp:127.0.0.1:${sipPort}`,
        SIPNATS_INSTANCE_ID: 'quickstart',
        LOG_LEVEL: 'warn',
      },
    });
    const keep = (b: Buffer): void => void (output = (output + b.toString('utf8')).slice(-20_000));
    up.stdout?.on('data', keep);
    up.stderr?.on('data', keep);
    const exited = new Promise<number | null>((resolve) => up?.once('exit', (code) => resolve(code)));

    await waitForTcp('127.0.0.1', natsPort, 15_000);
    const failure = await optionsAnswered(sipPort, 30_000);
    assert.equal(failure, '', `OPTIONS was not answered through sipnats up:\n${failure}\n--- up output ---\n${output}`);
    assert.match(output, /starting nats-server with JetStream/);

    up.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000))]);
    assert.equal(code, 0, `sipnats up did not exit 0 after SIGINT:\n${output}`);
    up = undefined;
    assert.equal(await tcpAnswers(natsPort), false, 'the nats-server that up started is still running');
  });
});
