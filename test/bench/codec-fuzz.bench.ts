/**
 * Long fuzz run of the codec: up to 1,000,000 seeded mutations of the RFC 4475 corpus, time-boxed.
 * `pnpm bench:codec-fuzz [cases] [seconds] [seed]`. Exits 1 on anything but SipParseError.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzzCase, mutate, prng } from '../../packages/sip-codec/test/fuzz.js';

const cases = Number(process.argv[2] ?? 1_000_000);
const seconds = Number(process.argv[3] ?? 120);
const seed = Number(process.argv[4] ?? 0xc0dec);
const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), '..', 'shared', 'corpus', 'rfc4475');
const files = readdirSync(dir).filter((f) => f.endsWith('.dat')).map((f) => readFileSync(join(dir, f)));
if (files.length === 0) throw new Error(`no corpus at ${dir}`);

const rnd = prng(seed);
const t0 = Date.now();
let done = 0;
let slowest = 0;
for (; done < cases && Date.now() - t0 < seconds * 1000; done++) {
  const input = mutate(files[done % files.length] as Buffer, rnd);
  const s = process.hrtime.bigint();
  try {
    fuzzCase(input);
  } catch (e) {
    console.error(`case ${done} (seed ${seed}) threw ${String(e)}\ninput (base64): ${input.toString('base64')}`);
    process.exit(1);
  }
  slowest = Math.max(slowest, Number(process.hrtime.bigint() - s) / 1e6);
}
console.log(`${done} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s, seed ${seed}, slowest case ${slowest.toFixed(2)} ms: only SipParseError thrown`);
