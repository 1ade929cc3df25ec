import assert from 'node:assert/strict';
import { natsSettings } from '../src/common.js';
import { ConfigError } from '../src/errors.js';
import { loadConfig } from '../src/load.js';

describe('invalid values are echoed without credentials', () => {
  it('an invalid NATS_URL item shows its URLs with the user info redacted', () => {
    const env = { NATS_URL: 'nats://ua:pw-do-not-echo@127.0.0.1:4222/x,tls://tok-do-not-echo@n2:4222' };
    assert.throws(
      () => loadConfig({ nats: natsSettings }, env),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const text = e.problems.join('\n');
        assert.match(text, /NATS_URL: invalid value "nats:\/\/\[redacted\]@127\.0\.0\.1:4222\/x,tls:\/\/\[redacted\]@n2:4222"/);
        assert.doesNotMatch(text, /do-not-echo/);
        return true;
      },
    );
  });

  it('a secret setting is never echoed', () => {
    assert.throws(
      () => loadConfig({ nats: natsSettings }, { NATS_TLS_KEY: '/nonexistent/key-do-not-echo.pem' }),
      (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith('NATS_TLS_KEY: invalid value (hidden, secret)')) && !e.problems.join('').includes('do-not-echo'),
    );
  });
});
