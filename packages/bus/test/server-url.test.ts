import assert from 'node:assert/strict';
import { BusError } from '../src/errors.js';
import { redactServerUrl, splitServerCredentials } from '../src/server-url.js';

describe('server URLs with credentials', () => {
  it('redactServerUrl hides user info, keeps scheme, host and port, and leaves plain URLs alone', () => {
    assert.equal(redactServerUrl('nats://transport:s3cret@127.0.0.1:4222'), 'nats://[redacted]@127.0.0.1:4222');
    assert.equal(redactServerUrl('tls://tok3n@nats.example:4443'), 'tls://[redacted]@nats.example:4443');
    assert.equal(redactServerUrl('u:p@w@host:4222'), '[redacted]@host:4222');
    assert.equal(redactServerUrl('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222');
    assert.equal(redactServerUrl('127.0.0.1:4222'), '127.0.0.1:4222');
  });

  it('splitServerCredentials turns user:password@ into user and password and strips every URL', () => {
    assert.deepEqual(splitServerCredentials(['nats://ua:p%40ss@n1:4222', 'nats://ua:p%40ss@n2:4222', 'nats://n3:4222']), {
      servers: ['nats://n1:4222', 'nats://n2:4222', 'nats://n3:4222'],
      user: 'ua',
      pass: 'p@ss',
    });
  });

  it('splitServerCredentials turns token@ into a token, and gives nothing for plain URLs', () => {
    assert.deepEqual(splitServerCredentials(['tls://abc@n1:4222']), { servers: ['tls://n1:4222'], token: 'abc' });
    assert.deepEqual(splitServerCredentials(['n1:4222']), { servers: ['n1:4222'] });
  });

  it('refuses URLs with different credentials, and bad percent-encoding, without echoing them', () => {
    for (const urls of [['nats://a:secret1@n1', 'nats://b:secret2@n2'], ['nats://a:secret%zz@n1']]) {
      assert.throws(
        () => splitServerCredentials(urls),
        (e: unknown) => e instanceof BusError && !e.message.includes('secret'),
      );
    }
  });
});
