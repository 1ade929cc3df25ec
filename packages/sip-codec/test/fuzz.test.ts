import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, corpusFile } from './corpus.js';
import { fuzzCase, mutate, prng } from './fuzz.js';

describe('sip-codec: fuzz (seeded mutations of the corpus)', () => {
  it('3,000 mutated messages: only SipParseError is thrown, by parser, framer and accessors', function () {
    this.timeout(60000);
    const files = readdirSync(join(CORPUS_DIR, 'rfc4475')).filter((f) => f.endsWith('.dat')).map((f) => corpusFile('rfc4475', f));
    assert.ok(files.length >= 50);
    const rnd = prng(0x5eed);
    for (let i = 0; i < 3000; i++) {
      const src = files[i % files.length] as Buffer;
      const input = mutate(src, rnd);
      try {
        fuzzCase(input);
      } catch (e) {
        assert.fail(`case ${i} threw ${String(e)}\ninput: ${input.toString('base64')}`);
      }
    }
  });
});
