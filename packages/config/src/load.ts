/**
 * loadConfig: reads every setting of a spec from an environment, collects every problem, and
 * returns a deep-frozen configuration object shaped like the spec (nested specs give nested objects).
 */
import { ConfigError } from './errors.js';
import { SETTING, type Setting, type SettingKind } from './setting.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySetting = Setting<any>;

/** A spec: settings and nested specs. */
export interface SettingsSpec {
  readonly [key: string]: AnySetting | SettingsSpec;
}

/** The configuration type of a spec. */
export type ConfigOf<S extends SettingsSpec> = {
  [K in keyof S]: S[K] extends Setting<infer T> ? T : S[K] extends SettingsSpec ? ConfigOf<S[K]> : never;
};

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadOptions<S extends SettingsSpec> {
  /** Cross-setting checks, run when every setting parsed; each returns problems (empty when fine). */
  checks?: ReadonlyArray<(config: DeepReadonly<ConfigOf<S>>) => readonly string[]>;
}

export function isSetting(x: unknown): x is AnySetting {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[SETTING] === true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const MAX_ECHO = 64;
/** User info of URLs (`scheme://user:password@`), hidden when an invalid value is echoed. */
const URL_USERINFO = /(:\/\/)[^\s/?#,]*@/g;
function echo(raw: string): string {
  const shown = raw.replace(URL_USERINFO, '$1[redacted]@');
  return JSON.stringify(shown.length > MAX_ECHO ? `${shown.slice(0, MAX_ECHO)}…` : shown);
}

function readSetting(s: AnySetting, env: Env, problems: string[]): unknown {
  const raw = env[s.env]?.trim();
  if (raw === undefined || raw === '') {
    if (s.default !== undefined) {
      const d: unknown = typeof s.default === 'function' ? (s.default as () => unknown)() : s.default;
      // Computed defaults go through the same parser, so they obey the same rules.
      if (typeof s.default === 'function' && typeof d === 'string') {
        const p = s.parse(d);
        if (!p.ok) {
          problems.push(`${s.env}: not set, and its computed default ${s.secret ? '' : `${echo(d)} `}${p.problem}; set ${s.env} (${s.doc})`);
          return undefined;
        }
        return p.value;
      }
      return Array.isArray(d) ? [...(d as unknown[])] : d;
    }
    if (!s.optional) problems.push(`${s.env}: required but not set (${s.doc})`);
    return undefined;
  }
  const p = s.parse(raw);
  if (p.ok) return p.value;
  problems.push(s.secret ? `${s.env}: invalid value (hidden, secret): ${p.problem}` : `${s.env}: invalid value ${echo(raw)}: ${p.problem}`);
  return undefined;
}

function walk(spec: SettingsSpec, env: Env, problems: string[], seen: Map<string, string>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(spec)) {
    const here = path === '' ? key : `${path}.${key}`;
    if (isSetting(entry)) {
      const other = seen.get(entry.env);
      if (other !== undefined && other !== here) {
        problems.push(`${entry.env}: declared twice in the settings spec (${other} and ${here})`);
      }
      seen.set(entry.env, here);
      const v = readSetting(entry, env, problems);
      if (v !== undefined) out[key] = v;
    } else {
      out[key] = walk(entry, env, problems, seen, here);
    }
  }
  return out;
}

/** Validates every setting, throws ConfigError listing EVERY problem, returns the frozen config. */
export function loadConfig<S extends SettingsSpec>(spec: S, env: Env = process.env, options?: LoadOptions<S>): DeepReadonly<ConfigOf<S>> {
  const problems: string[] = [];
  const config = walk(spec, env, problems, new Map(), '') as ConfigOf<S>;
  if (problems.length > 0) throw new ConfigError(problems);
  const frozen = deepFreeze(config) as DeepReadonly<ConfigOf<S>>;
  for (const check of options?.checks ?? []) problems.push(...check(frozen));
  if (problems.length > 0) throw new ConfigError(problems);
  return frozen;
}

export interface SettingInfo {
  /** Dotted path in the config object. */
  path: string;
  env: string;
  kind: SettingKind;
  doc: string;
  accepts: string;
  /** Default as text; absent when none, `(computed)` for computed defaults, hidden for secrets. */
  default?: string;
  secret: boolean;
  required: boolean;
}

/** Every setting of a spec, in declaration order, for docs and `--help`. */
export function describeSettings(spec: SettingsSpec, path = ''): SettingInfo[] {
  const out: SettingInfo[] = [];
  for (const [key, entry] of Object.entries(spec)) {
    const here = path === '' ? key : `${path}.${key}`;
    if (!isSetting(entry)) {
      out.push(...describeSettings(entry, here));
      continue;
    }
    const info: SettingInfo = {
      path: here,
      env: entry.env,
      kind: entry.kind,
      doc: entry.doc,
      accepts: entry.accepts,
      secret: entry.secret,
      required: entry.default === undefined && !entry.optional,
    };
    if (entry.default !== undefined) {
      info.default = entry.secret
        ? '(hidden)'
        : typeof entry.default === 'function'
          ? '(computed)'
          : Array.isArray(entry.default)
            ? entry.default.join(',')
            : String(entry.default);
    }
    out.push(info);
  }
  return out;
}

/** Renders describeSettings as aligned text lines for `--help`. */
export function formatSettingsHelp(spec: SettingsSpec): string {
  return describeSettings(spec)
    .map((s) => {
      const tail = [s.required ? 'required' : s.default !== undefined ? `default ${s.default}` : 'optional', s.secret ? 'secret' : '']
        .filter((x) => x !== '')
        .join(', ');
      return `  ${s.env.padEnd(28)} ${s.doc} [${s.accepts}; ${tail}]`;
    })
    .join('\n');
}
