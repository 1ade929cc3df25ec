import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeHa1 } from '../src/auth/digest-algorithm.js';
import { loadCredentialFile, parseCredentialJson, parseCredentialLines } from '../src/auth/credential-store.js';
import { AuthError } from '../src/auth/errors.js';
import { MemoryNonceCountStore } from '../src/auth/nonce-count-store.js';
import { FakeClock } from './support/fakes.js';

const md5 = computeHa1('md5', 'alice', 'sip.test', 'pw');
const sha = computeHa1('sha256', 'alice', 'sip.test', 'pw');

describe('auth: credential files', () => {
  it('parses user:realm:ha1md5:ha1sha256 lines with comments and an empty HA1', () => {
    const users = parseCredentialLines(`# users\n\nalice:sip.test:${md5}:${sha}\nbob:sip.test::${sha}\n`);
    assert.equal(users.length, 2);
    assert.deepEqual(users[0], { username: 'alice', realm: 'sip.test', ha1: { md5, sha256: sha } });
    assert.deepEqual(users[1]?.ha1, { sha256: sha });
  });

  it('names the line of a malformed entry', () => {
    assert.throws(() => parseCredentialLines(`alice:sip.test:${md5}:${sha}\nbob:sip.test:xyz:`, 'users.txt'), (e: unknown) => e instanceof AuthError && e.code === 'UA_AUTH_CREDENTIAL_FILE' && /users\.txt:2/.test(e.message));
    assert.throws(() => parseCredentialLines('alice:sip.test'), /expected user:realm/);
    assert.throws(() => parseCredentialLines('alice:sip.test::'), /neither/);
    assert.throws(() => parseCredentialLines(`a:r:${md5}:\na:r:${md5}:`), /duplicate/);
  });

  it('parses JSON with passwords or HA1s', () => {
    const users = parseCredentialJson(JSON.stringify({ users: [{ username: 'alice', realm: 'sip.test', password: 'pw' }, { username: 'bob', realm: 'sip.test', ha1Md5: md5 }] }));
    assert.deepEqual(users[0]?.ha1, { md5, sha256: sha });
    assert.deepEqual(users[1]?.ha1, { md5 });
    assert.throws(() => parseCredentialJson('{'), /not valid JSON/);
    assert.throws(() => parseCredentialJson('{"users":[{"username":1}]}'), /username must be a string/);
  });

  it('loads a file in either format', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ua-cred-'));
    try {
      await writeFile(join(dir, 'a.txt'), `alice:sip.test:${md5}:${sha}\n`);
      await writeFile(join(dir, 'a.json'), JSON.stringify({ users: [{ username: 'alice', realm: 'sip.test', password: 'pw' }] }));
      for (const f of ['a.txt', 'a.json']) {
        const store = await loadCredentialFile(join(dir, f));
        assert.deepEqual((await store.lookup('alice', 'sip.test'))?.ha1, { md5, sha256: sha });
        assert.equal(await store.lookup('alice', 'other'), undefined);
      }
      await assert.rejects(loadCredentialFile(join(dir, 'missing')), /cannot read/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('auth: MemoryNonceCountStore', () => {
  it('create fails on an existing key, update is compare-and-set', async () => {
    const clock = new FakeClock();
    const s = new MemoryNonceCountStore({ maxEntries: 2, ttlMs: 1000, clock: clock.read });
    assert.equal(await s.create('a', 1), true);
    assert.equal(await s.create('a', 2), false);
    const e = await s.get('a');
    assert.ok(e);
    assert.equal(await s.update('a', 2, e.revision + 1), false);
    assert.equal(await s.update('a', 2, e.revision), true);
    assert.equal((await s.get('a'))?.nc, 2);
  });

  it('is bounded and forgets entries after the TTL', async () => {
    const clock = new FakeClock();
    const s = new MemoryNonceCountStore({ maxEntries: 2, ttlMs: 1000, clock: clock.read });
    await s.create('a', 1);
    await s.create('b', 1);
    await s.create('c', 1);
    assert.equal(s.size, 2);
    assert.equal(await s.get('a'), undefined);
    clock.advance(1001);
    assert.equal(await s.get('b'), undefined);
  });
});
