/**
 * deploy/docker: no Docker engine runs here, so the Dockerfiles are checked by reading them:
 * every COPY source exists and survives the Dockerfile's own .dockerignore, the service images
 * build and start the package that the manifests run, and they run as a non-root user.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_START } from '../../packages/cli/src/cluster/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const docker = join(repo, 'deploy/docker');

/** Instructions of a Dockerfile, continuation lines joined and comments dropped. */
function instructions(file: string): { op: string; args: string }[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: { op: string; args: string }[] = [];
  let current = '';
  for (const line of lines) {
    if (/^\s*#/.test(line)) continue;
    current += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith('\\')) continue;
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(current);
    if (m?.[1] !== undefined && m[2] !== undefined) out.push({ op: m[1], args: m[2].trim() });
    current = '';
  }
  return out;
}

/** A path is excluded by .dockerignore patterns (last match wins; `!` re-includes). */
function ignored(path: string, patterns: readonly string[]): boolean {
  let result = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const p = negate ? raw.slice(1) : raw;
    const re = new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '@@ANY@@')
        .replace(/\*/g, '[^/]*')
        .replace(/@@ANY@@/g, '(?:.*/)?')}(?:/.*)?$`,
    );
    if (re.test(path)) result = !negate;
  }
  return result;
}

function ignoreFile(dockerfile: string): string[] {
  return readFileSync(`${dockerfile}.dockerignore`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function copySources(ins: { op: string; args: string }[]): string[] {
  return ins
    .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1);
    });
}

describe('deploy/docker', function () {
  for (const svc of ['transport', 'ua'] as const) {
    it(`${svc}.Dockerfile builds @sipnats/${svc} from sources that are in the context, and runs it as non-root`, function () {
      const file = join(docker, `${svc}.Dockerfile`);
      const ins = instructions(file);
      const patterns = ignoreFile(file);
      for (const src of copySources(ins)) {
        assert.ok(existsSync(join(repo, src)), `COPY source ${src} exists`);
        assert.ok(!ignored(src, patterns), `COPY source ${src} is not excluded by the .dockerignore`);
      }
      const pkg = JSON.parse(readFileSync(join(repo, `services/${svc}/package.json`), 'utf8')) as { name: string; bin?: Record<string, string> };
      const run = ins.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
      assert.match(run, new RegExp(`pnpm exec tsc -b services/${svc}\\b`));
      assert.match(run, new RegExp(`pnpm --filter ${pkg.name} deploy --prod`));
      const entry = ins.find((i) => i.op === 'ENTRYPOINT');
      const bin = Object.values(pkg.bin ?? {})[0]?.replace(/^\.\//, '');
      const flags = SERVICE_START[svc].nodeArgs;
      assert.equal(entry?.args, `[${['node', ...flags, `/app/${bin}`].map((a) => `"${a}"`).join(', ')}]`, 'starts the package bin with the Node.js options of SERVICE_START');
      const shebang = readFileSync(join(repo, `services/${svc}/src/main.ts`), 'utf8').split('\n')[0];
      assert.equal(shebang, flags.length === 0 ? '#!/usr/bin/env node' : `#!/usr/bin/env -S node ${flags.join(' ')}`, 'the bin carries the same options');
      const users = ins.filter((i) => i.op === 'USER');
      assert.match(users[users.length - 1]?.args ?? '', /^[1-9][0-9]*:[1-9][0-9]*$/, 'runs as a numeric non-root user');
      assert.ok(ins.filter((i) => i.op === 'FROM').length >= 2, 'multi-stage');
      assert.ok(ignored('packages/config/node_modules/x', patterns) && ignored('services/ua/dist/main.js', patterns), 'build outputs stay out of the context');
    });
  }

  it('freeswitch.Dockerfile builds the shim on the operator image, without FreeSWITCH sources', function () {
    const file = join(docker, 'freeswitch.Dockerfile');
    const ins = instructions(file);
    const patterns = ignoreFile(file);
    assert.equal(ins[0]?.op, 'ARG');
    assert.equal(ins[0]?.args, 'FREESWITCH_IMAGE', 'no default base: the operator names it');
    assert.deepEqual(
      ins.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]),
      ['${FREESWITCH_IMAGE}', '${FREESWITCH_IMAGE}'],
    );
    for (const src of copySources(ins)) {
      assert.ok(existsSync(join(repo, src)), `COPY source ${src} exists`);
      assert.ok(!ignored(src, patterns), `COPY source ${src} is in the context`);
    }
    const run = ins.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    assert.match(run, /libnats-dev/);
    assert.match(run, /make -C packages\/fs-shim all module/);
    assert.doesNotMatch(run, /git clone|freeswitch\.git|\.\/bootstrap\.sh|\.\/configure/, 'FreeSWITCH itself is never built');
    assert.ok(ignored('packages/fs-shim/build/x.o', patterns) && ignored('services/ua/src/x.ts', patterns));
  });
});
