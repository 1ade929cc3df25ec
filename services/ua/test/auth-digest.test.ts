import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { computeHa1, computeResponse, DigestAlgorithm } from '../src/auth/digest-algorithm.js';
import { buildAuthorization, DigestClient, pickChallenge } from '../src/auth/digest-client.js';
import { credentialsFromPassword, StaticCredentialStore } from '../src/auth/credential-store.js';
import { DigestAuthenticator } from '../src/auth/digest-server.js';
import type { AuthResult } from '../src/auth/digest-server.js';
import { NonceService } from '../src/auth/nonce.js';
import { MemoryNonceCountStore } from '../src/auth/nonce-count-store.js';
import { authValue, FakeClock, seededRandom } from './support/fakes.js';

const RFC7616 = {
  username: 'Mufasa',
  realm: 'http-auth@example.org',
  password: 'Circle of Life',
  method: 'GET',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
};

describe('auth: digest computations (RFC 7616 §3.9.1)', () => {
  for (const [algorithm, family, expected] of [
    [DigestAlgorithm.MD5, 'md5', '8ca523f5e9506fed4657c9700eebdbec'],
    [DigestAlgorithm.SHA256, 'sha256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const) {
    it(`computes the RFC 7616 ${algorithm} example response`, () => {
      const ha1 = computeHa1(family, RFC7616.username, RFC7616.realm, RFC7616.password);
      const r = computeResponse({ algorithm, ha1, nonce: RFC7616.nonce, method: 'GET', uri: RFC7616.uri, qop: 'auth', nc: '00000001', cnonce: RFC7616.cnonce });
      assert.equal(r, expected);
    });

    it(`the client builds the RFC 7616 ${algorithm} Authorization`, () => {
      const challenge = authValue(
        `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=${algorithm}, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`,
      );
      const value = buildAuthorization({ challenge, method: 'GET', uri: RFC7616.uri, secret: { username: 'Mufasa', password: RFC7616.password }, cnonce: RFC7616.cnonce, nc: 1 });
      const parsed = authValue(value);
      assert.equal(parsed.params.get('response'), expected);
      assert.equal(parsed.params.get('nc'), '00000001');
      assert.equal(parsed.params.get('qop'), 'auth');
      assert.equal(parsed.params.get('opaque'), RFC7616.opaque);
      assert.equal(parsed.params.get('algorithm'), algorithm);
    });
  }

  it('computes the RFC 2617 §3.5 MD5 example (the digest SIPp sends for qop=auth)', () => {
    const ha1 = computeHa1('md5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    const r = computeResponse({ algorithm: DigestAlgorithm.MD5, ha1, nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'GET', uri: '/dir/index.html', qop: 'auth', nc: '00000001', cnonce: '0a4f113b' });
    assert.equal(r, '6629fae49393a05397450978507c4ef1');
  });

  it('computes an RFC 2069-style digest (no qop) and an MD5-sess digest', () => {
    const ha1 = computeHa1('md5', 'alice', 'sip.test', 'secret');
    const plain = computeResponse({ algorithm: DigestAlgorithm.MD5, ha1, nonce: 'n1', method: 'REGISTER', uri: 'sip:sip.test', qop: undefined, nc: undefined, cnonce: undefined });
    const h = (s: string): string => createHash('md5').update(s).digest('hex');
    assert.equal(plain, h(`${ha1}:n1:${h('REGISTER:sip:sip.test')}`));
    const sess = computeResponse({ algorithm: DigestAlgorithm.MD5_SESS, ha1, nonce: 'n1', method: 'REGISTER', uri: 'sip:sip.test', qop: 'auth', nc: '00000001', cnonce: 'c' });
    assert.equal(sess, h(`${h(`${ha1}:n1:c`)}:n1:00000001:c:auth:${h('REGISTER:sip:sip.test')}`));
  });

  it('pickChallenge prefers SHA-256 over MD5 and skips schemes it cannot answer', () => {
    const md5 = authValue('Digest realm="r", nonce="n", algorithm=MD5, qop="auth"');
    const sha = authValue('Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"');
    const basic = authValue('Basic realm="r"');
    assert.equal(pickChallenge([basic, md5, sha]), sha);
    assert.equal(pickChallenge([basic]), undefined);
  });
});

describe('auth: DigestAuthenticator (server)', () => {
  const realm = 'sip.test';
  const method = 'REGISTER';
  const uri = 'sip:sip.test';
  let clock: FakeClock;
  let server: DigestAuthenticator;
  let counts: MemoryNonceCountStore;
  let nonces: NonceService;

  beforeEach(() => {
    clock = new FakeClock();
    nonces = new NonceService({ secret: Buffer.alloc(32, 7), random: seededRandom('nonce'), lifetimeMs: 300_000 });
    counts = new MemoryNonceCountStore({ maxEntries: 1000, ttlMs: 300_000, clock: clock.read });
    server = new DigestAuthenticator({
      realm,
      nonces,
      counts,
      credentials: new StaticCredentialStore([credentialsFromPassword('alice', realm, 'wonderland')]),
    });
  });

  function challengeOf(result: AuthResult): { headers: readonly (readonly [string, string])[] } {
    assert.equal(result.kind, 'challenge');
    return result as Extract<AuthResult, { kind: 'challenge' }>;
  }

  async function answer(password: string, nc = 1, pick = 0, client?: { cnonce: string }): Promise<{ value: string; result: AuthResult }> {
    const first = challengeOf(await server.verify({ method, requestUri: uri, credentials: [], now: clock.now }));
    const header = first.headers[pick];
    assert.ok(header);
    const value = buildAuthorization({ challenge: authValue(header[1]), method, uri, secret: { username: 'alice', password }, cnonce: client?.cnonce ?? 'abc', nc });
    return { value, result: await server.verify({ method, requestUri: uri, credentials: [authValue(value)], now: clock.now }) };
  }

  it('challenges with SHA-256 first, then MD5, qop="auth", opaque and one nonce', async () => {
    const result = challengeOf(await server.verify({ method, requestUri: uri, credentials: [], now: clock.now }));
    assert.equal(result.headers.length, 2);
    const [sha, md5] = result.headers.map((h) => authValue(h[1]));
    assert.equal(result.headers[0]?.[0], 'WWW-Authenticate');
    assert.equal(sha?.params.get('algorithm'), 'SHA-256');
    assert.equal(md5?.params.get('algorithm'), 'MD5');
    assert.equal(sha?.params.get('qop'), 'auth');
    assert.equal(sha?.params.get('nonce'), md5?.params.get('nonce'));
    assert.ok(sha?.params.get('opaque'));
    assert.equal(sha?.params.get('stale'), undefined);
  });

  it('accepts a correct SHA-256 and a correct MD5 answer', async () => {
    const sha = await answer('wonderland', 1, 0);
    assert.equal(sha.result.kind, 'ok');
    assert.equal(sha.result.kind === 'ok' && sha.result.algorithm, 'SHA-256');
    const md5 = await answer('wonderland', 1, 1);
    assert.equal(md5.result.kind === 'ok' && md5.result.algorithm, 'MD5');
  });

  it('a wrong password is forbidden (403, bad-response)', async () => {
    const { result } = await answer('guess');
    assert.deepEqual(result, { kind: 'forbidden', reason: 'bad-response', status: 403 });
  });

  it('an unknown user is forbidden, a username other than expected too', async () => {
    const first = challengeOf(await server.verify({ method, requestUri: uri, credentials: [], now: clock.now }));
    const challenge = authValue(first.headers[0]?.[1] ?? '');
    const bob = buildAuthorization({ challenge, method, uri, secret: { username: 'bob', password: 'x' }, cnonce: 'c', nc: 1 });
    const r1 = await server.verify({ method, requestUri: uri, credentials: [authValue(bob)], now: clock.now });
    assert.equal(r1.kind === 'forbidden' && r1.reason, 'unknown-user');
    const alice = buildAuthorization({ challenge, method, uri, secret: { username: 'alice', password: 'wonderland' }, cnonce: 'c', nc: 1 });
    const r2 = await server.verify({ method, requestUri: uri, credentials: [authValue(alice)], expectedUsername: 'carol', now: clock.now });
    assert.equal(r2.kind === 'forbidden' && r2.reason, 'username-mismatch');
  });

  it('rejects a replayed nonce-count and accepts a higher one', async () => {
    const { value, result } = await answer('wonderland', 1);
    assert.equal(result.kind, 'ok');
    const replay = await server.verify({ method, requestUri: uri, credentials: [authValue(value)], now: clock.now });
    assert.equal(replay.kind, 'challenge');
    assert.equal(replay.kind === 'challenge' && replay.reason, 'replay');
    const next = buildAuthorization({ challenge: authValue(value), method, uri, secret: { username: 'alice', password: 'wonderland' }, cnonce: 'abc', nc: 2 });
    assert.equal((await server.verify({ method, requestUri: uri, credentials: [authValue(next)], now: clock.now })).kind, 'ok');
    const lower = buildAuthorization({ challenge: authValue(value), method, uri, secret: { username: 'alice', password: 'wonderland' }, cnonce: 'abc', nc: 1 });
    assert.equal((await server.verify({ method, requestUri: uri, credentials: [authValue(lower)], now: clock.now })).kind, 'challenge');
  });

  it('a nonce used without qop is single use', async () => {
    const first = challengeOf(await server.verify({ method, requestUri: uri, credentials: [], now: clock.now }));
    const c = authValue(first.headers[1]?.[1] ?? '');
    c.params.delete('qop');
    const value = buildAuthorization({ challenge: c, method, uri, secret: { username: 'alice', password: 'wonderland' }, cnonce: 'x', nc: 1 });
    assert.equal(authValue(value).params.get('qop'), undefined);
    assert.equal((await server.verify({ method, requestUri: uri, credentials: [authValue(value)], now: clock.now })).kind, 'ok');
    const again = await server.verify({ method, requestUri: uri, credentials: [authValue(value)], now: clock.now });
    assert.equal(again.kind === 'challenge' && again.reason, 'replay');
  });

  it('an expired nonce with a correct digest gets a stale=true challenge', async () => {
    const first = challengeOf(await server.verify({ method, requestUri: uri, credentials: [], now: clock.now }));
    clock.advance(300_001);
    const value = buildAuthorization({ challenge: authValue(first.headers[0]?.[1] ?? ''), method, uri, secret: { username: 'alice', password: 'wonderland' }, cnonce: 'x', nc: 1 });
    const result = await server.verify({ method, requestUri: uri, credentials: [authValue(value)], now: clock.now });
    assert.equal(result.kind, 'challenge');
    assert.equal(result.kind === 'challenge' && result.stale, true);
    assert.equal(authValue((result as { headers: readonly (readonly [string, string])[] }).headers[0]?.[1] ?? '').params.get('stale'), 'true');
  });

  it('a tampered nonce gets a plain challenge (nonce-invalid)', async () => {
    const first = challengeOf(await server.verify({ method, requestUri: uri, credentials: [], now: clock.now }));
    const c = authValue(first.headers[0]?.[1] ?? '');
    const nonce = c.params.get('nonce') ?? '';
    c.params.set('nonce', (nonce[0] === 'A' ? 'B' : 'A') + nonce.slice(1));
    const value = buildAuthorization({ challenge: c, method, uri, secret: { username: 'alice', password: 'wonderland' }, cnonce: 'x', nc: 1 });
    const result = await server.verify({ method, requestUri: uri, credentials: [authValue(value)], now: clock.now });
    assert.equal(result.kind === 'challenge' && result.reason, 'nonce-invalid');
    assert.equal(result.kind === 'challenge' && result.stale, false);
  });

  it('a nonce from another realm or secret does not verify', () => {
    const other = new NonceService({ secret: Buffer.alloc(32, 8), random: seededRandom('x'), lifetimeMs: 1000 });
    const n = other.issue(realm, clock.now);
    assert.deepEqual(nonces.check(n, realm, clock.now), { kind: 'invalid', reason: 'mac' });
    assert.deepEqual(nonces.check(nonces.issue('other', clock.now), realm, clock.now), { kind: 'invalid', reason: 'mac' });
    assert.deepEqual(nonces.check('short', realm, clock.now), { kind: 'invalid', reason: 'format' });
  });

  it('a digest uri other than the Request-URI is 400', async () => {
    const first = challengeOf(await server.verify({ method, requestUri: uri, credentials: [], now: clock.now }));
    const value = buildAuthorization({ challenge: authValue(first.headers[0]?.[1] ?? ''), method, uri: 'sip:evil.test', secret: { username: 'alice', password: 'wonderland' }, cnonce: 'x', nc: 1 });
    const result = await server.verify({ method, requestUri: uri, credentials: [authValue(value)], now: clock.now });
    assert.equal(result.kind === 'bad-request' && result.reason, 'uri-mismatch');
  });

  it('credentials for another realm get a challenge; missing params are 400', async () => {
    const foreign = authValue('Digest username="alice", realm="other", nonce="n", uri="sip:sip.test", response="00"');
    assert.equal((await server.verify({ method, requestUri: uri, credentials: [foreign], now: clock.now })).kind, 'challenge');
    const partial = authValue('Digest username="alice", realm="sip.test", uri="sip:sip.test"');
    assert.equal((await server.verify({ method, requestUri: uri, credentials: [partial], now: clock.now })).kind, 'bad-request');
  });

  it('Proxy mode challenges with 407 and Proxy-Authenticate', () => {
    const proxy = new DigestAuthenticator({ realm, nonces, counts, credentials: new StaticCredentialStore([]), mode: 'proxy' });
    const c = proxy.challenge(clock.now);
    assert.equal(c.status, 407);
    assert.equal(c.headers[0]?.[0], 'Proxy-Authenticate');
  });

  it('DigestClient counts nc per nonce and answers with the right header name', async () => {
    const client = new DigestClient(seededRandom('client'));
    const first = challengeOf(await server.verify({ method, requestUri: uri, credentials: [], now: clock.now }));
    const challenges = first.headers.map((h) => authValue(h[1]));
    const [name, v1] = client.authorize(401, challenges, method, uri, { username: 'alice', password: 'wonderland' });
    assert.equal(name, 'Authorization');
    assert.equal(authValue(v1).params.get('algorithm'), 'SHA-256');
    assert.equal((await server.verify({ method, requestUri: uri, credentials: [authValue(v1)], now: clock.now })).kind, 'ok');
    const [, v2] = client.authorize(401, challenges, method, uri, { username: 'alice', password: 'wonderland' });
    assert.equal(authValue(v2).params.get('nc'), '00000002');
    assert.equal((await server.verify({ method, requestUri: uri, credentials: [authValue(v2)], now: clock.now })).kind, 'ok');
  });
});
