import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entry = pathToFileURL(resolve(here, '../src/index.ts')).href;

describe('config: loadConfigOrExit', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sipnats-exit-'));
    writeFileSync(
      join(dir, 'main.ts'),
      [
        `import { commonSettings, loadConfigOrExit, setting } from ${JSON.stringify(entry)};`,
        `const c = loadConfigOrExit({ ...commonSettings, secret: setting.string('SIPNATS_SECRET', { doc: 'HMAC secret', secret: true, pattern: /^.{16,}$/ }) }, { name: 'demo' });`,
        `process.stdout.write(JSON.stringify({ prefix: c.prefix }));`,
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function run(env: Record<string, string>) {
    return spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'main.ts')], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      encoding: 'utf8',
      timeout: 15_000,
    });
  }

  it('prints each problem on stderr and exits with code 2', () => {
    const r = run({ SIPNATS_SECRET: 'short-secret', LOG_LEVEL: 'loud' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines[0], 'demo: invalid configuration');
    assert.equal(lines.length, 3);
    assert.match(r.stderr, /^ {2}- SIPNATS_SECRET: invalid value \(hidden, secret\)/m);
    assert.match(r.stderr, /^ {2}- LOG_LEVEL: invalid value "loud"/m);
    assert.ok(!r.stderr.includes('short-secret'));
  });

  it('returns the config when valid', () => {
    const r = run({ SIPNATS_SECRET: '0123456789abcdef', SIPNATS_PREFIX: 'acme' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { prefix: 'acme' });
  });
});
