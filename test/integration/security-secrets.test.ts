/**
 * Security: secrets are required in production and checked everywhere. The real transport refuses
 * to start without SIPNATS_SECRET (routing-token HMAC key) when SIPNATS_ENV=production, the real
 * ua without SIPNATS_AUTH_SECRET (digest nonce key); both refuse a short key and inconsistent
 * NATS credentials, exiting 2 with a message that names the setting and never echoes the secret.
 * In development they warn and use a random per-process key.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startTransport, TRANSPORT_MAIN } from '../support/transport-process.js';
import { startUa, UA_MAIN } from '../support/ua-process.js';

interface Exit {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a service with exactly `env` (plus PATH) and resolves when it exits (killed after 10 s). */
function runToExit(main: string, env: Readonly<Record<string, string>>): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (b: Buffer) => (output += b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => (output += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const SHORT_SECRET = 'short-s3cr3t-v'; // 14 bytes
const HTTP = { HTTP_LISTEN: '127.0.0.1:0', NATS_URL: 'nats://127.0.0.1:1' };

describe('security: secrets required in production, checked keys and NATS credentials', function () {
  this.timeout(60_000);
  let nats: NatsServer | undefined;

  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats?.dispose();
  });

  describe('transport', function () {
    it('SIPNATS_ENV=production without SIPNATS_SECRET: exit 2 naming SIPNATS_SECRET', async function () {
      const r = await runToExit(TRANSPORT_MAIN, { ...HTTP, SIPNATS_ENV: 'production', SIP_LISTEN: 'udp:127.0.0.1:0' });
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, /invalid configuration/);
      assert.match(r.output, /SIPNATS_SECRET is required when SIPNATS_ENV=production/);
    });

    it('a SIPNATS_SECRET shorter than 16 bytes is refused (exit 2) and not echoed', async function () {
      const r = await runToExit(TRANSPORT_MAIN, { ...HTTP, SIPNATS_ENV: 'production', SIPNATS_SECRET: SHORT_SECRET, SIP_LISTEN: 'udp:127.0.0.1:0' });
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, /SIPNATS_SECRET must be at least 16 bytes/);
      assert.ok(!r.output.includes(SHORT_SECRET), r.output);
    });

    it('NATS_USER without NATS_PASSWORD, or NATS_PASSWORD with NATS_TOKEN, is refused (exit 2) and the password not echoed', async function () {
      const a = await runToExit(TRANSPORT_MAIN, { ...HTTP, SIP_LISTEN: 'udp:127.0.0.1:0', NATS_USER: 'transport' });
      assert.equal(a.code, 2, a.output);
      assert.match(a.output, /NATS_USER and NATS_PASSWORD: set both or neither/);
      const b = await runToExit(TRANSPORT_MAIN, { ...HTTP, SIP_LISTEN: 'udp:127.0.0.1:0', NATS_USER: 'transport', NATS_PASSWORD: 'pw-not-to-be-echoed', NATS_TOKEN: 'tok-not-to-be-echoed' });
      assert.equal(b.code, 2, b.output);
      assert.match(b.output, /use only one authentication method/);
      assert.ok(!/not-to-be-echoed/.test(b.output), b.output);
    });

    it('development without SIPNATS_SECRET: warns and runs with a random per-process key', async function () {
      assert.ok(nats !== undefined);
      const t = await startTransport({ natsUrl: nats.url, instance: 'sec-dev-tr', transports: ['udp'], env: { SIPNATS_SECRET: '' } });
      try {
        assert.ok(t.logs.some((l) => /"level":"warn".*SIPNATS_SECRET is not set: using a random per-process routing key/.test(l)), t.logs.join('\n'));
        assert.equal((await t.http('/readyz')).status, 200);
      } finally {
        await t.stop('SIGTERM');
      }
    });
  });

  describe('ua', function () {
    it('SIPNATS_ENV=production without SIPNATS_AUTH_SECRET: exit 2 naming SIPNATS_AUTH_SECRET', async function () {
      const r = await runToExit(UA_MAIN, { ...HTTP, SIPNATS_ENV: 'production' });
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, /invalid configuration/);
      assert.match(r.output, /SIPNATS_AUTH_SECRET: required in production/);
    });

    it('a SIPNATS_AUTH_SECRET shorter than 16 characters is refused (exit 2) and not echoed', async function () {
      const r = await runToExit(UA_MAIN, { ...HTTP, SIPNATS_ENV: 'production', SIPNATS_AUTH_SECRET: SHORT_SECRET });
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, /SIPNATS_AUTH_SECRET: invalid value \(hidden, secret\)/);
      assert.ok(!r.output.includes(SHORT_SECRET), r.output);
    });

    it('NATS_TLS_CERT without NATS_TLS_KEY is refused (exit 2)', async function () {
      const r = await runToExit(UA_MAIN, { ...HTTP, NATS_TLS: 'true', NATS_TLS_CERT: TRANSPORT_MAIN });
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, /NATS_TLS_CERT and NATS_TLS_KEY: set both or neither/);
    });

    it('development without SIPNATS_AUTH_SECRET: warns and runs with a random nonce key', async function () {
      assert.ok(nats !== undefined);
      const u = await startUa({ natsUrl: nats.url, instance: 'sec-dev-ua', env: { SIPNATS_AUTH_SECRET: '', LOG_LEVEL: 'info' } });
      try {
        assert.ok(u.logs.some((l) => /"level":"warn".*SIPNATS_AUTH_SECRET not set: random nonce key/.test(l)), u.logs.join('\n'));
        assert.equal((await u.http('/readyz')).status, 200);
      } finally {
        await u.stop('SIGTERM');
      }
    });
  });
});
