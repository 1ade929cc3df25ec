import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { answers, isLoopback, natsHostPort } from '../src/commands/nats-local.ts';

describe('sipnats up: finding NATS', () => {
  it('reads host and port from the forms NATS_URL takes', () => {
    assert.deepEqual(natsHostPort('nats://127.0.0.1:4222'), { host: '127.0.0.1', port: 4222 });
    assert.deepEqual(natsHostPort('tls://nats.example.com:4443'), { host: 'nats.example.com', port: 4443 });
    assert.deepEqual(natsHostPort('localhost:5222'), { host: 'localhost', port: 5222 });
    assert.deepEqual(natsHostPort('nats://[::1]:4222'), { host: '::1', port: 4222 });
    assert.deepEqual(natsHostPort('nats://10.0.0.1'), { host: '10.0.0.1', port: 4222 });
  });

  it('starts a local server only for loopback addresses', () => {
    assert.equal(isLoopback('127.0.0.1'), true);
    assert.equal(isLoopback('127.3.2.1'), true);
    assert.equal(isLoopback('::1'), true);
    assert.equal(isLoopback('localhost'), true);
    assert.equal(isLoopback('10.0.0.1'), false);
    assert.equal(isLoopback('nats.example.com'), false);
  });

  it('tells a listening port from a closed one', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    assert.equal(await answers({ host: '127.0.0.1', port }), true);
    await new Promise<void>((r) => server.close(() => r()));
    assert.equal(await answers({ host: '127.0.0.1', port }), false);
  });
});
