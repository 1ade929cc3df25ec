import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const corpus = join(repoRoot, '..', 'shared', 'corpus', 'rfc4475');
const bin = join(repoRoot, 'packages', 'cli', 'src', 'bin.ts');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

function lines(out: string): Array<Record<string, unknown>> {
  return out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('sipnats parse', () => {
  it('a command named like an Object.prototype member is an unknown command (exit 2), not a crash', async () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = await run([name]);
      assert.equal(r.code, 2, name);
      assert.match(r.err, /unknown command/, name);
    }
  });

  it('prints the request line fields of a valid message and exits 0', async () => {
    const file = join(corpus, 'wsinv.dat');
    const r = await run(['parse', file]);
    assert.equal(r.code, 0);
    const [line] = lines(r.out);
    assert.deepEqual(line, {
      file,
      ok: true,
      kind: 'request',
      method: 'INVITE',
      uri: 'sip:vivekg@chair-dnrc.example.com;unknownparam',
      callId: 'wsinv.ndaksdj@192.0.2.1',
      cseq: { seq: 9, method: 'INVITE' },
      branch: '390skdjuw',
      bodyLength: 150,
    });
  });

  it('prints status for a response (RFC 4475 §3.1.1.13 empty reason phrase)', async () => {
    const r = await run(['parse', join(corpus, 'noreason.dat')]);
    assert.equal(r.code, 0);
    const [line] = lines(r.out);
    assert.equal(line?.['kind'], 'response');
    assert.equal(line?.['status'], 100);
    assert.equal(line?.['method'], undefined);
  });

  it('reports a rejected message with code and offset, processes the rest, exits 1', async () => {
    const good = join(corpus, 'esc01.dat');
    const bad = join(corpus, 'badvers.dat');
    const r = await run(['parse', bad, good]);
    assert.equal(r.code, 1);
    const [first, second] = lines(r.out);
    assert.equal(first?.['ok'], false);
    assert.equal(first?.['file'], bad);
    assert.match(String(first?.['code']), /^SIP_ERR_/);
    assert.equal(typeof first?.['message'], 'string');
    assert.ok(typeof first?.['offset'] === 'number' || first?.['offset'] === null);
    assert.equal(second?.['ok'], true);
  });

  it('reports an unreadable file and still processes the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipnats-cli-'));
    const good = join(dir, 'options.sip');
    writeFileSync(
      good,
      'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
    const r = await run(['parse', join(dir, 'missing.sip'), good]);
    assert.equal(r.code, 1);
    const [missing, parsed] = lines(r.out);
    assert.equal(missing?.['ok'], false);
    assert.equal(missing?.['code'], 'READ_ENOENT');
    assert.equal(parsed?.['method'], 'OPTIONS');
    assert.equal(parsed?.['bodyLength'], 0);
  });

  it('is a usage error (exit 2) without files or with an unknown option', async () => {
    assert.equal((await run(['parse'])).code, 2);
    const r = await run(['parse', '--frobnicate', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown option --frobnicate/);
  });

  it('the binary exits with the codes it promises', () => {
    const node = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(node(['parse', join(corpus, 'wsinv.dat')]).status, 0);
    assert.equal(node(['parse', join(corpus, 'badvers.dat')]).status, 1);
    assert.equal(node(['nonsense']).status, 2);
  });
});
