/**
 * Locates the shared torture corpora: `<repo>/../shared/corpus` (dev: /work/shared/corpus; in CI
 * a copy of shared/ sits beside the clone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CORPUS_DIR = join(repoRoot, '..', 'shared', 'corpus');

export function corpusFile(set: 'rfc4475' | 'rfc5118' | 'rfc5118/wire', name: string): Buffer {
  const path = join(CORPUS_DIR, set, name);
  if (!existsSync(path)) {
    throw new Error(`torture corpus file missing: ${path} (expected shared/corpus beside the repository clone, at ${CORPUS_DIR})`);
  }
  return readFileSync(path);
}
