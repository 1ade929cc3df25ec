/** `pnpm gen:proto`: writes proto/ from the contract (and removes stale generated files). */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isGeneratedProtoFile, renderProto } from './render.js';

/** proto/ of the repository: this file is packages/contracts/{src,dist}/gen/main.*. */
export const PROTO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../proto');

const files = renderProto();
const wanted = new Set(files.map((f) => f.name));
for (const f of files) writeFileSync(join(PROTO_DIR, f.name), f.content);
for (const name of readdirSync(PROTO_DIR)) {
  if (isGeneratedProtoFile(name) && !wanted.has(name)) rmSync(join(PROTO_DIR, name));
}
process.stdout.write(`wrote ${files.length} files to ${PROTO_DIR}\n`);
