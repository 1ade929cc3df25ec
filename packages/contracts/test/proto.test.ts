import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isGeneratedProtoFile, renderProto } from '../src/gen/render.js';

const PROTO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../proto');

describe('contracts: proto/ is generated and current', () => {
  const files = renderProto();

  it('every generated file in proto/ matches the contract (run `pnpm gen:proto` when this fails)', () => {
    for (const f of files) {
      let onDisk: string | undefined;
      try {
        onDisk = readFileSync(join(PROTO_DIR, f.name), 'utf8');
      } catch {
        onDisk = undefined;
      }
      assert.ok(onDisk !== undefined, `proto/${f.name} is missing: run \`pnpm gen:proto\``);
      assert.ok(onDisk === f.content, `proto/${f.name} is stale: run \`pnpm gen:proto\``);
    }
    const wanted = new Set(files.map((f) => f.name));
    const stale = readdirSync(PROTO_DIR).filter((n) => isGeneratedProtoFile(n) && !wanted.has(n));
    assert.deepEqual(stale, [], `proto/ has files the contract no longer generates (${stale.join(', ')}): run \`pnpm gen:proto\``);
  });

  it('emits self-contained JSON Schema 2020-12 documents', () => {
    for (const f of files.filter((x) => x.name.endsWith('.schema.json'))) {
      const doc = JSON.parse(f.content) as Record<string, unknown>;
      assert.equal(doc['$schema'], 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(doc['$id'], f.name);
      const refs = [...f.content.matchAll(/"\$ref": "#\/\$defs\/([A-Za-z]+)"/g)].map((m) => m[1] ?? '');
      const defs = (doc['$defs'] ?? {}) as Record<string, unknown>;
      for (const r of refs) assert.ok(r in defs, `${f.name}: $ref to missing $defs/${r}`);
    }
  });

  it('sipnats.h compiles with -Wall -Werror and defines every macro the C shim uses', () => {
    const header = files.find((f) => f.name === 'sipnats.h');
    assert.ok(header);
    const macros = [...header.content.matchAll(/^#define (SIPNATS_[A-Z0-9_]+) /gm)].map((m) => m[1] ?? '');
    for (const m of ['SIPNATS_ENVELOPE_VERSION', 'SIPNATS_DEFAULT_PREFIX', 'SIPNATS_SUBJ_RAW_IN', 'SIPNATS_SUBJ_CMD_CALL', 'SIPNATS_QUEUE_UA', 'SIPNATS_QUEUE_TRANSPORT', 'SIPNATS_HDR_TRANSPORT', 'SIPNATS_HDR_INSTANCE', 'SIPNATS_SIP_HDR_CALL', 'SIPNATS_CALL_EVT_OFFER', 'SIPNATS_CALL_EVT_TRANSFERRED', 'SIPNATS_REG_EVT_EXPIRED', 'SIPNATS_CALL_CMD_ORIGINATE', 'SIPNATS_REPLY_CODE_BAD_STATE', 'SIPNATS_SUBJ_EVT_CHANNEL', 'SIPNATS_CHANNEL_EVT_HANGUP', 'SIPNATS_DIRECTION_INBOUND']) {
      assert.ok(macros.includes(m), `missing ${m}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'sipnats-h-'));
    try {
      writeFileSync(join(dir, 'sipnats.h'), header.content);
      const uses = macros.filter((m) => m !== 'SIPNATS_ENVELOPE_VERSION').map((m) => `  ${m},`);
      writeFileSync(
        join(dir, 'use.c'),
        [
          '#include "sipnats.h"',
          '#include "sipnats.h" /* include guard */',
          'const char *const sipnats_all[] = {',
          ...uses,
          '};',
          'int sipnats_version(void) { return SIPNATS_ENVELOPE_VERSION; }',
          '',
        ].join('\n'),
      );
      try {
        execFileSync('cc', ['-std=c99', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-pedantic', join(dir, 'use.c')], { stdio: 'pipe' });
      } catch (e) {
        const err = e as { stderr?: Buffer };
        assert.fail(`cc rejected sipnats.h:\n${err.stderr?.toString() ?? String(e)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
