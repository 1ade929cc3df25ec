/**
 * NATS server URLs may carry credentials (`nats://user:password@host:4222`, `nats://token@host`),
 * as libnats and the nats CLI accept them. nats.js ignores them, and a URL is logged and put into
 * error messages: so connectBus strips the user info from every URL, turns it into user/password
 * or token options, and only ever shows URLs through `redactServerUrl`.
 */
import { BUS_ERROR, BusError } from './errors.js';

/** Placeholder for the user info of a URL in logs and messages. */
export const REDACTED_USERINFO = '[redacted]';

/** `scheme://` (optional) then the user info up to the last `@` before the host. */
const USERINFO = /^((?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?)([^/?#]*)@/;

/** The URL with any user info replaced by `[redacted]`; safe to log. */
export function redactServerUrl(url: string): string {
  return url.replace(USERINFO, `$1${REDACTED_USERINFO}@`);
}

export interface ServerCredentials {
  /** The URLs without user info. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
}

function decode(part: string, url: string): string {
  try {
    return decodeURIComponent(part);
  } catch (cause) {
    throw new BusError(BUS_ERROR.connect, `bad percent-encoding in the credentials of NATS server ${redactServerUrl(url)}`, { cause });
  }
}

/**
 * Splits user info off the URLs: `user:password@` gives user and password, `token@` a token.
 * Every URL that carries user info must carry the same; a mix is refused (one connection has one
 * identity). The error messages never contain the credentials.
 */
export function splitServerCredentials(urls: readonly string[]): ServerCredentials {
  const servers: string[] = [];
  let found: { user?: string; pass?: string; token?: string; raw: string } | undefined;
  for (const url of urls) {
    const m = USERINFO.exec(url);
    if (m === null) {
      servers.push(url);
      continue;
    }
    const scheme = m[1] ?? '';
    const info = m[2] ?? '';
    servers.push(scheme + url.slice(m[0].length));
    if (found !== undefined) {
      if (found.raw !== info) throw new BusError(BUS_ERROR.connect, 'NATS server URLs carry different credentials; give one user, password or token for all of them');
      continue;
    }
    const colon = info.indexOf(':');
    found =
      colon < 0
        ? { token: decode(info, url), raw: info }
        : { user: decode(info.slice(0, colon), url), pass: decode(info.slice(colon + 1), url), raw: info };
  }
  const out: ServerCredentials = { servers };
  if (found?.user !== undefined) out.user = found.user;
  if (found?.pass !== undefined) out.pass = found.pass;
  if (found?.token !== undefined) out.token = found.token;
  return out;
}
