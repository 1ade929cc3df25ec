import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_PORT_PATTERN, commonSettings, natsChecks, parseHostPort } from '../src/common.js';
import { ConfigError } from '../src/errors.js';
import { describeSettings, formatSettingsHelp, loadConfig } from '../src/load.js';
import { setting } from '../src/setting.js';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.code, 'SIPNATS_ERR_CONFIG');
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

const spec = {
  name: setting.string('APP_NAME', { doc: 'name', pattern: /^[a-z]+$/ }),
  port: setting.int('APP_PORT', { doc: 'port', default: 5060, min: 1, max: 65535 }),
  debug: setting.bool('APP_DEBUG', { doc: 'debug', default: false }),
  mode: setting.oneOf('APP_MODE', ['a', 'b'] as const, { doc: 'mode', default: 'a' }),
  tags: setting.list('APP_TAGS', { doc: 'tags', default: ['x'] }),
  timeout: setting.duration('APP_TIMEOUT', { doc: 'timeout', default: 5000, min: 10 }),
  home: setting.url('APP_HOME', { doc: 'home', default: 'https://example.com/', protocols: ['https'] }),
  nested: {
    secret: setting.string('APP_SECRET', { doc: 'secret', secret: true, optional: true, pattern: /^.{8,}$/ }),
    extra: setting.int('APP_EXTRA', { doc: 'extra', optional: true }),
  },
};

describe('config: loadConfig', () => {
  it('applies defaults and parses every kind', () => {
    const c = loadConfig(spec, { APP_NAME: 'sip' });
    assert.deepEqual(c, { name: 'sip', port: 5060, debug: false, mode: 'a', tags: ['x'], timeout: 5000, home: 'https://example.com/', nested: {} });
    const d = loadConfig(spec, {
      APP_NAME: ' abc ',
      APP_PORT: '5080',
      APP_DEBUG: 'yes',
      APP_MODE: 'b',
      APP_TAGS: ' a, ,b ,c,',
      APP_TIMEOUT: '2m',
      APP_HOME: 'https://sipnats.test/x',
      APP_SECRET: 'longenough',
      APP_EXTRA: '-3',
    });
    assert.equal(d.name, 'abc');
    assert.equal(d.port, 5080);
    assert.equal(d.debug, true);
    assert.equal(d.mode, 'b');
    assert.deepEqual(d.tags, ['a', 'b', 'c']);
    assert.equal(d.timeout, 120_000);
    assert.equal(d.nested.secret, 'longenough');
    assert.equal(d.nested.extra, -3);
  });

  it('parses durations and booleans in every accepted form', () => {
    const s = { d: setting.duration('D', { doc: 'd' }), b: setting.bool('B', { doc: 'b' }) };
    const cases: Array<[string, number]> = [['250ms', 250], ['5s', 5000], ['2m', 120_000], ['1h', 3_600_000], ['1500', 1500], ['1.5s', 1500]];
    for (const [raw, ms] of cases) assert.equal(loadConfig(s, { D: raw, B: '1' }).d, ms, raw);
    for (const [raw, b] of [['true', true], ['1', true], ['YES', true], ['false', false], ['0', false], ['no', false]] as const) {
      assert.equal(loadConfig(s, { D: '1', B: raw }).b, b, raw);
    }
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(() =>
      loadConfig(spec, { APP_PORT: '70000', APP_DEBUG: 'maybe', APP_MODE: 'c', APP_TAGS: ' , ', APP_TIMEOUT: '5 s', APP_HOME: 'http://x/', APP_EXTRA: '1.5' }),
    );
    const envs = problems.map((p) => p.split(':')[0]);
    assert.deepEqual(envs, ['APP_NAME', 'APP_PORT', 'APP_DEBUG', 'APP_MODE', 'APP_TAGS', 'APP_TIMEOUT', 'APP_HOME', 'APP_EXTRA']);
    assert.match(problems[0] ?? '', /required but not set/);
    assert.match(problems[1] ?? '', /"70000".*between 1 and 65535/);
  });

  it('never echoes a secret value', () => {
    const problems = problemsOf(() => loadConfig(spec, { APP_NAME: 'ok', APP_SECRET: 'hunter2' }));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^APP_SECRET: invalid value \(hidden, secret\)/);
    assert.ok(!problems.join('\n').includes('hunter2'));
    try {
      loadConfig(spec, { APP_NAME: 'ok', APP_SECRET: 'hunter2' });
    } catch (e) {
      assert.ok(!String((e as Error).message).includes('hunter2'));
    }
  });

  it('deep-freezes the result (nested objects and lists too)', () => {
    const c = loadConfig(spec, { APP_NAME: 'x', APP_SECRET: '12345678' });
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.nested));
    assert.ok(Object.isFrozen(c.tags));
    assert.equal(Reflect.set(c, 'port', 1), false);
    assert.equal(c.port, 5060);
    assert.equal(Reflect.set(c.nested, 'extra', 1), false);
    assert.throws(() => (c.tags as string[]).push('y'), TypeError);
    // A default list is copied, so freezing one config does not freeze the spec's default.
    const again = loadConfig(spec, { APP_NAME: 'x' });
    assert.notEqual(again.tags, c.tags);
  });

  it('treats empty variables as unset', () => {
    const c = loadConfig(spec, { APP_NAME: 'x', APP_PORT: '  ', APP_SECRET: '' });
    assert.equal(c.port, 5060);
    assert.equal(c.nested.secret, undefined);
  });

  it('checks files exist and are readable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipnats-config-'));
    try {
      const f = join(dir, 'ca.pem');
      writeFileSync(f, 'x');
      const s = { ca: setting.file('CA_FILE', { doc: 'ca' }) };
      assert.equal(loadConfig(s, { CA_FILE: f }).ca, f);
      assert.match(problemsOf(() => loadConfig(s, { CA_FILE: join(dir, 'nope') }))[0] ?? '', /does not exist/);
      assert.match(problemsOf(() => loadConfig(s, { CA_FILE: dir }))[0] ?? '', /regular file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs cross-setting checks after parsing', () => {
    const problems = problemsOf(() =>
      loadConfig(commonSettings, { NATS_USER: 'u', NATS_TOKEN: 't', SIPNATS_ENV: 'production' }, { checks: [(c) => natsChecks(c.nats)] }),
    );
    assert.deepEqual(problems, [
      'NATS_USER/NATS_PASSWORD, NATS_TOKEN and NATS_CREDS: use only one authentication method',
      'NATS_USER and NATS_PASSWORD: set both or neither',
    ]);
  });

  it('common settings: defaults, instance id, prefix, log level', () => {
    const c = loadConfig(commonSettings, {});
    assert.deepEqual(c.nats.servers, ['nats://127.0.0.1:4222']);
    assert.equal(c.nats.tls, false);
    assert.equal(c.prefix, 'sip');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.env, 'development');
    assert.equal(c.httpListen, '127.0.0.1:0');
    assert.match(c.instanceId, /^[A-Za-z0-9._-]{1,64}$/);
    const problems = problemsOf(() =>
      loadConfig(commonSettings, { SIPNATS_PREFIX: 'a..b', SIPNATS_INSTANCE_ID: 'has space', LOG_LEVEL: 'loud', NATS_URL: 'nats://a:4222, bad url', HTTP_LISTEN: 'nope' }),
    );
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['NATS_URL', 'SIPNATS_PREFIX', 'SIPNATS_INSTANCE_ID', 'LOG_LEVEL', 'HTTP_LISTEN'],
    );
    // Values the patterns pass are values the services can use: no port above 65535 (parseHostPort
    // threw a RangeError at start-up), no prefix longer than subjects() takes.
    const limits = problemsOf(() => loadConfig(commonSettings, { HTTP_LISTEN: '127.0.0.1:65536', SIPNATS_PREFIX: `${'a'.repeat(64)}.${'b'.repeat(64)}` }));
    assert.deepEqual(limits.map((p) => p.split(':')[0]), ['SIPNATS_PREFIX', 'HTTP_LISTEN']);
    const edge = loadConfig(commonSettings, { HTTP_LISTEN: '[::1]:65535', SIPNATS_PREFIX: `${'a'.repeat(63)}.${'b'.repeat(64)}` });
    assert.deepEqual(parseHostPort(edge.httpListen), { host: '::1', port: 65535 });
    assert.equal(edge.prefix.length, 128);
    for (const port of ['0', '9', '80', '5060', '10000', '59999', '64999', '65499', '65529']) assert.equal(parseHostPort(`h:${port}`).port, Number(port));
    for (const bad of ['h:99999', 'h:65540', 'h:', 'h:123456']) assert.ok(!HOST_PORT_PATTERN.test(bad), bad);
    assert.deepEqual(parseHostPort('[::1]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(parseHostPort('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  });

  it('describes every setting for --help, hiding secret defaults', () => {
    const info = describeSettings(spec);
    assert.deepEqual(
      info.map((i) => i.env),
      ['APP_NAME', 'APP_PORT', 'APP_DEBUG', 'APP_MODE', 'APP_TAGS', 'APP_TIMEOUT', 'APP_HOME', 'APP_SECRET', 'APP_EXTRA'],
    );
    assert.deepEqual(info[0], { path: 'name', env: 'APP_NAME', kind: 'string', doc: 'name', accepts: 'text matching /^[a-z]+$/', secret: false, required: true });
    assert.equal(info[1]?.default, '5060');
    assert.equal(info[7]?.secret, true);
    assert.equal(info[7]?.path, 'nested.secret');
    const common = describeSettings(commonSettings);
    assert.equal(common.find((i) => i.env === 'SIPNATS_INSTANCE_ID')?.default, '(computed)');
    assert.match(formatSettingsHelp(spec), /APP_PORT\s+port \[integer between 1 and 65535; default 5060\]/);
  });

  it('reports a setting declared twice', () => {
    const dup = { a: setting.int('DUP', { doc: 'a', default: 1 }), b: { c: setting.int('DUP', { doc: 'c', default: 2 }) } };
    assert.match(problemsOf(() => loadConfig(dup, {}))[0] ?? '', /DUP: declared twice .*a and b\.c/);
  });
});
