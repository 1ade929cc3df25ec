/**
 * Setting declarations. A setting names one environment variable, documents it, and parses its raw
 * text into a typed value. An unset or empty (after trimming) variable counts as "not set": then the
 * default applies, or the value is `undefined` for an optional setting, or it is a problem.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';

export const SETTING = Symbol.for('sipnats.config.setting');

export type SettingKind = 'string' | 'int' | 'bool' | 'oneOf' | 'list' | 'duration' | 'file' | 'url';

/** Result of parsing a raw value: the value, or a problem (without the value when secret). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface Setting<T> {
  readonly [SETTING]: true;
  readonly kind: SettingKind;
  readonly env: string;
  readonly doc: string;
  readonly secret: boolean;
  /** When true and unset without default, the value is `undefined`. */
  readonly optional: boolean;
  /** Default value (a function is called once per load, e.g. for the host name). */
  readonly default: T | (() => T) | undefined;
  /** Human description of the accepted values, for docs and --help. */
  readonly accepts: string;
  parse(raw: string): Parsed<T>;
}

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

function make<T>(
  kind: SettingKind,
  env: string,
  o: { doc: string; secret?: boolean; optional?: boolean; default?: T | (() => T) | undefined },
  accepts: string,
  parse: (raw: string) => Parsed<T>,
): Setting<T> {
  if (!ENV_NAME.test(env)) throw new TypeError(`invalid environment variable name ${JSON.stringify(env)}`);
  return Object.freeze({
    [SETTING]: true as const,
    kind,
    env,
    doc: o.doc,
    secret: o.secret ?? false,
    optional: o.optional ?? false,
    default: o.default,
    accepts,
    parse,
  });
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

type Opt<O> = O extends { optional: true } ? (O extends { default: unknown } ? never : undefined) : never;

function parseDuration(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw);
  if (m === null || m[1] === undefined) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1;
  const ms = Math.round(n * factor);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

function range(min: number | undefined, max: number | undefined, unit = ''): string {
  if (min !== undefined && max !== undefined) return ` between ${min}${unit} and ${max}${unit}`;
  if (min !== undefined) return ` of at least ${min}${unit}`;
  if (max !== undefined) return ` of at most ${max}${unit}`;
  return '';
}

export const setting = {
  string<const O extends { doc: string; default?: string | (() => string); secret?: boolean; pattern?: RegExp; optional?: boolean }>(
    env: string,
    o: O,
  ): Setting<string | Opt<O>> {
    const pattern = o.pattern;
    return make<string | Opt<O>>('string', env, o, pattern === undefined ? 'text' : `text matching ${pattern}`, (raw) =>
      pattern !== undefined && !pattern.test(raw) ? bad(`must match ${pattern}`) : ok(raw),
    );
  },

  int<const O extends { doc: string; default?: number; min?: number; max?: number; optional?: boolean }>(env: string, o: O): Setting<number | Opt<O>> {
    const { min, max } = o;
    return make<number | Opt<O>>('int', env, o, `integer${range(min, max)}`, (raw) => {
      if (!/^[+-]?\d{1,15}$/.test(raw)) return bad('must be an integer');
      const n = Number(raw);
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) return bad(`must be an integer${range(min, max)}`);
      return ok(n);
    });
  },

  bool(env: string, o: { doc: string; default?: boolean }): Setting<boolean> {
    return make<boolean>('bool', env, o, 'true/false, 1/0, yes/no', (raw) => {
      const v = raw.toLowerCase();
      if (v === 'true' || v === '1' || v === 'yes') return ok(true);
      if (v === 'false' || v === '0' || v === 'no') return ok(false);
      return bad('must be one of true, false, 1, 0, yes, no');
    });
  },

  oneOf<const T extends string>(env: string, values: readonly T[], o: { doc: string; default?: T }): Setting<T> {
    return make<T>('oneOf', env, o, `one of ${values.join(', ')}`, (raw) =>
      (values as readonly string[]).includes(raw) ? ok(raw as T) : bad(`must be one of ${values.join(', ')}`),
    );
  },

  list<const O extends { doc: string; default?: string[]; optional?: boolean; itemPattern?: RegExp; secret?: boolean }>(
    env: string,
    o: O,
  ): Setting<readonly string[] | Opt<O>> {
    const pattern = o.itemPattern;
    return make<readonly string[] | Opt<O>>('list', env, o, 'comma-separated list', (raw) => {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0) return bad('must list at least one item');
      if (pattern !== undefined) {
        const wrong = items.findIndex((i) => !pattern.test(i));
        if (wrong >= 0) return bad(`item ${wrong + 1} must match ${pattern}`);
      }
      return ok(items);
    });
  },

  duration<const O extends { doc: string; default?: number; min?: number; max?: number; optional?: boolean }>(env: string, o: O): Setting<number | Opt<O>> {
    const { min, max } = o;
    return make<number | Opt<O>>('duration', env, o, `duration such as 250ms, 5s, 2m, 1h or plain milliseconds${range(min, max, 'ms')}`, (raw) => {
      const ms = parseDuration(raw);
      if (ms === undefined) return bad('must be a duration such as 250ms, 5s, 2m, 1h or plain milliseconds');
      if ((min !== undefined && ms < min) || (max !== undefined && ms > max)) return bad(`must be a duration${range(min, max, 'ms')}`);
      return ok(ms);
    });
  },

  file<const O extends { doc: string; optional?: boolean; secret?: boolean }>(env: string, o: O): Setting<string | Opt<O>> {
    return make<string | Opt<O>>('file', env, o, 'path of a readable file', (raw) => {
      try {
        if (!statSync(raw).isFile()) return bad('must be a regular file');
        accessSync(raw, fsConstants.R_OK);
        return ok(raw);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return bad(code === 'ENOENT' ? 'file does not exist' : code === 'EACCES' ? 'file is not readable' : 'file cannot be read');
      }
    });
  },

  url<const O extends { doc: string; default?: string; protocols?: string[]; optional?: boolean }>(env: string, o: O): Setting<string | Opt<O>> {
    const protocols = o.protocols?.map((p) => (p.endsWith(':') ? p : `${p}:`));
    return make<string | Opt<O>>('url', env, o, protocols === undefined ? 'URL' : `URL (${protocols.join(' ')})`, (raw) => {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return bad('must be an absolute URL');
      }
      if (protocols !== undefined && !protocols.includes(u.protocol)) return bad(`must use ${protocols.join(' or ')}`);
      return ok(raw);
    });
  },
};
