/**
 * `sipnats tail` against a real nats-server: a full call's raw messages (real SIP text, the headers
 * the transport sets) published on the raw subjects; tail prints each once, in order, with the right
 * direction and instance; filters; the ladder; a NATS outage reported and survived; Ctrl-C exits 0.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'mocha';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { isValid, describeErrors, subjects } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { TailJsonLine } from '../../packages/cli/src/tail/json-line.js';
import { CALL, CALL_ID } from '../../packages/cli/test/tail-fixture.js';
import { publishCall, runCli, type CliRun } from './tools-support.js';

describe('integration: sipnats tail', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  let nc: NatsConnection;
  const runs: CliRun[] = [];
  let n = 0;
  const prefix = (): string => `tailtest${process.pid}x${++n}`;
  const tail = (args: readonly string[], p: string): CliRun => {
    const run = runCli(['tail', ...args], { NATS_URL: nats.url, SIPNATS_PREFIX: p });
    runs.push(run);
    return run;
  };

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  afterEach(async () => {
    await Promise.all(runs.splice(0).map((r) => r.stop('SIGKILL')));
  });
  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('--json prints every message of a call once, in order, with direction and instance; Ctrl-C exits 0', async () => {
    const p = prefix();
    const run = tail(['--json'], p);
    await run.waitStderr(/listening on/);
    await publishCall(nc, p, { instance: 'edge.1' });
    const lines = await run.waitLines(CALL.length);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(run.stdout().split('\n').length - 1, CALL.length, 'no duplicates');
    lines.forEach((text, i) => {
      const line = JSON.parse(text) as unknown;
      assert.ok(isValid(TailJsonLine, line), describeErrors(TailJsonLine, line).join('; '));
      const m = CALL[i];
      assert.equal(line.direction, m?.direction, `message ${i}`);
      assert.equal(line.instance, 'edge.1');
      assert.equal(line.subject, `${p}.raw.${m?.direction}.edge%2E1`);
      assert.equal(line.remote, m?.remote);
      assert.equal(line.callId, CALL_ID);
      assert.equal(line.kind === 'request' ? line.method : `${line.status} ${line.reason}`, m?.label);
    });
    assert.equal(await run.stop('SIGINT'), 0);
  });

  it('filters combine with AND; a malformed message is shown as such', async () => {
    const p = prefix();
    const byeOk = tail(['--json', '--method', 'BYE', '--status', '2xx'], p);
    const alice = tail(['--json', '--user', 'alice', '--instance', 'other'], p);
    const plain = tail(['--no-color'], p);
    await Promise.all([byeOk, alice, plain].map((r) => r.waitStderr(/listening on/)));
    const s = subjects(p);
    nc.publish(s.rawIn('t1'), Buffer.from('this is not SIP\r\n\r\n'));
    await publishCall(nc, p);
    const bye = await byeOk.waitLines(2);
    assert.deepEqual(
      bye.map((l) => JSON.parse(l) as TailJsonLine).map((l) => [l.direction, l.status, l.cseq?.method]),
      [
        ['in', 200, 'BYE'],
        ['out', 200, 'BYE'],
      ],
    );
    const lines = await plain.waitLines(CALL.length + 1);
    assert.match(lines[0] ?? '', / t1 {8}→ \? {4}\? +MALFORMED \(SIP_ERR_\w+: .*\) 19 bytes$/);
    assert.match(lines[1] ?? '', /^\d{2}:\d{2}:\d{2}\.\d{3} {2}t1 {8}→ udp {2}127\.0\.0\.1:5061 +INVITE +a84b4c76e66710@pc33\.example\.com {2}314159 INVITE$/);
    assert.ok(!lines.join('').includes('\x1b'), 'no colors when stdout is not a terminal');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(alice.stdout(), '', 'no message of instance "other"');
    assert.equal(byeOk.stdout().split('\n').length - 1, 2);
  });

  it('--ladder prints the whole call flow when the call ends, then exits', async () => {
    const p = prefix();
    const run = tail(['--ladder', CALL_ID, '--utc'], p);
    await run.waitStderr(/listening on/);
    await publishCall(nc, p, { baseTime: Date.UTC(2024, 0, 2, 3, 4, 5, 0) });
    assert.equal(await run.exited, 0);
    const text = run.stdout();
    assert.match(text, /^Call-ID: a84b4c76e66710@pc33\.example\.com {2}\(14 messages, ended\)\n +127\.0\.0\.1:5061 +\[t1\] +127\.0\.0\.1:5062\n/);
    assert.equal((text.match(/─▶│/g) ?? []).length, 6, 'INVITE, INVITE, ACK, ACK, BYE, BYE go right');
    assert.equal((text.match(/│◀─/g) ?? []).length, 8, 'eight responses go left');
    for (let i = 0; i < CALL.length; i++) assert.ok(text.includes(`03:04:05.${String(i).padStart(3, '0')} `), `row of message ${i}`);
  });

  it('reports a NATS outage on stderr and resumes when NATS is back', async () => {
    const p = prefix();
    const run = tail(['--json'], p);
    await run.waitStderr(/listening on/);
    await nats.stop();
    await run.waitStderr(/NATS connection lost/);
    await nats.start();
    await run.waitStderr(/NATS reconnected/, 30_000);
    const nc2 = await connect({ servers: nats.url });
    try {
      await publishCall(nc2, p);
      const lines = await run.waitLines(CALL.length);
      assert.equal(lines.length, CALL.length);
    } finally {
      await nc2.close();
      await nc.close();
      nc = await connect({ servers: nats.url });
    }
    assert.equal(await run.stop('SIGTERM'), 0);
  });

  it('rejects bad options with usage (exit 2)', async () => {
    const run = runCli(['tail', '--status', '99x'], { NATS_URL: nats.url });
    runs.push(run);
    assert.equal(await run.exited, 2);
    assert.match(run.stderr(), /invalid status "99x"/);
  });
});
