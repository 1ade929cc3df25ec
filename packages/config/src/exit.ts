import { ConfigError } from './errors.js';
import { loadConfig, type ConfigOf, type DeepReadonly, type LoadOptions, type SettingsSpec } from './load.js';

/** Exit code of a process that stopped because of its configuration. */
export const CONFIG_EXIT_CODE = 2;

/**
 * loadConfig on process.env; on ConfigError prints each problem on stderr and exits with code 2.
 * For main.ts only: libraries and build() take the config object.
 */
export function loadConfigOrExit<S extends SettingsSpec>(spec: S, opts?: { name?: string } & LoadOptions<S>): DeepReadonly<ConfigOf<S>> {
  try {
    return loadConfig(spec, process.env, opts);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const name = opts?.name ?? 'sipnats';
    process.stderr.write(`${name}: invalid configuration\n${e.problems.map((p) => `  - ${p}\n`).join('')}`);
    process.exit(CONFIG_EXIT_CODE);
  }
}
