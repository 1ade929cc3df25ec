/**
 * NATS users for a local cluster: the accounts, users and subject permissions of
 * `deploy/nats/accounts.conf` (the same file Kubernetes uses), with a random password per user and
 * run. `natsAuthFromDeploy` is the one place where credentials plug in: the servers get the
 * include line and the password variables, each service gets its own user.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Users defined by deploy/nats/accounts.conf. */
export const NATS_USERS = ['transport', 'ua', 'fsshim', 'tools', 'sys'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** Where the accounts file lives in the repository. */
export const ACCOUNTS_CONF = join('deploy', 'nats', 'accounts.conf');

export interface NatsAuth {
  /** `deploy` (users and permissions from deploy/nats/accounts.conf) or `none` (no authentication). */
  readonly mode: 'deploy' | 'none';
  /** Config text a server whose config file is in `configDir` includes (empty for `none`). */
  serverConfig(configDir: string): string;
  /** Environment of every nats-server process (the password variables). */
  readonly serverEnv: Readonly<Record<string, string>>;
  /** NATS_USER / NATS_PASSWORD for a service connecting as `user` (empty for `none`). */
  clientEnv(user: NatsUser): Readonly<Record<string, string>>;
  /** nats.js connect options (`user`, `pass`) for a client connecting as `user`. */
  clientOptions(user: NatsUser): { readonly user?: string; readonly pass?: string };
}

/** nats-server parses an environment value as config: a password starts with a letter, then hex. */
function newPassword(): string {
  return `p${randomBytes(16).toString('hex')}`;
}

export function noNatsAuth(): NatsAuth {
  return {
    mode: 'none',
    serverConfig: () => '',
    serverEnv: {},
    clientEnv: () => ({}),
    clientOptions: () => ({}),
  };
}

/**
 * Authentication from deploy/nats/accounts.conf under `repoRoot`, with fresh passwords; undefined
 * when the file is not there (the cluster then runs without authentication).
 */
export function natsAuthFromDeploy(repoRoot: string): NatsAuth | undefined {
  const accounts = join(repoRoot, ACCOUNTS_CONF);
  if (!existsSync(accounts)) return undefined;
  const passwords = Object.fromEntries(NATS_USERS.map((u) => [u, newPassword()])) as Record<NatsUser, string>;
  const serverEnv = Object.fromEntries(NATS_USERS.map((u) => [`NATS_${u.toUpperCase()}_PASSWORD`, passwords[u]]));
  return {
    mode: 'deploy',
    // nats-server (2.9) resolves an include relative to the including file, even an absolute path.
    serverConfig: (configDir) => `include "${relative(configDir, accounts)}"\n`,
    serverEnv,
    clientEnv: (user) => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] }),
    clientOptions: (user) => ({ user, pass: passwords[user] }),
  };
}
