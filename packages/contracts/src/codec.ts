/**
 * JSON codec for envelopes. Each schema is compiled once (TypeCompiler) the first time it is used;
 * the payload schemas of this package are compiled when the module loads. `.Errors()` runs only
 * after a failed `.Check()`, so the hot path costs one compiled check.
 */
import { Buffer } from 'node:buffer';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { CONTRACT_ERROR, ContractError } from './errors.js';
import { PAYLOAD_SCHEMAS } from './schemas/index.js';

/** At most this many problems are reported for one invalid payload. */
export const MAX_PROBLEMS = 10;

const checks = new WeakMap<TSchema, TypeCheck<TSchema>>();
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function compiled<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = checks.get(schema);
  if (check === undefined) {
    check = TypeCompiler.Compile(schema);
    checks.set(schema, check);
  }
  return check as TypeCheck<T>;
}

for (const schema of Object.values(PAYLOAD_SCHEMAS)) compiled(schema);

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Readable problems of a value that failed `Check`: `<path>: <message>`, at most MAX_PROBLEMS. */
export function describeErrors<T extends TSchema>(schema: T, value: unknown): string[] {
  const out: string[] = [];
  for (const e of compiled(schema).Errors(value)) {
    out.push(`${e.path === '' ? '/' : e.path}: ${e.message}`);
    if (out.length >= MAX_PROBLEMS) break;
  }
  if (out.length === 0) out.push('/: invalid value');
  return out;
}

/** True when `value` matches `schema` (a type guard). */
export function isValid<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return compiled(schema).Check(value);
}

/** Throws ContractError (code SIPNATS_ERR_PAYLOAD, with `problems`) unless `value` matches `schema`. */
export function assertValid<T extends TSchema>(schema: T, value: unknown): asserts value is Static<T> {
  if (compiled(schema).Check(value)) return;
  const problems = describeErrors(schema, value);
  const name = typeof schema.$id === 'string' ? schema.$id : 'payload';
  throw new ContractError(CONTRACT_ERROR.invalid, `invalid ${name}: ${problems.join('; ')}`, { problems });
}

/** Validates and serialises `value` as UTF-8 JSON. Throws ContractError when it does not match. */
export function encodeJson<T extends TSchema>(schema: T, value: Static<T>): Uint8Array {
  assertValid(schema, value);
  return utf8.encode(JSON.stringify(value));
}

/**
 * Serialises `value` as UTF-8 JSON **without** the schema check: for hot paths whose envelopes are
 * built by typed code that enforces every limit of `schema` itself, with a test proving it (the
 * transport's builders: services/transport/test/envelopes.test.ts). The type still has to match
 * `schema`; anything assembled from unchecked input must go through `encodeJson`. Never throws for
 * a plain JSON value.
 */
export function encodeJsonTrusted<T extends TSchema>(_schema: T, value: Static<T>): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Parses UTF-8 JSON and validates it. Never throws: bad input gives `{ ok: false, errors }`. */
export function decodeJson<T extends TSchema>(schema: T, data: Uint8Array | string): DecodeResult<Static<T>> {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : utf8Decoder.decode(data));
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return { ok: false, errors: [`/: not UTF-8 JSON (${detail})`] };
  }
  if (compiled(schema).Check(value)) return { ok: true, value };
  return { ok: false, errors: describeErrors(schema, value) };
}
