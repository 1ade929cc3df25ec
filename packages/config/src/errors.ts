/** Thrown by loadConfig with every problem found in the environment (secret values never included). */
export class ConfigError extends Error {
  readonly code = 'SIPNATS_ERR_CONFIG';
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` + problems.map((p) => `  - ${p}`).join('\n'),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}
