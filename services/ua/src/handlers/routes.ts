/**
 * Static routes of the bridge (SIPNATS_ROUTES_FILE): JSON
 * `{ "routes": [{ "prefix", "target", "username"?, "password"?, "realm"? }] }`. A callee user that
 * is not registered takes the route with the longest matching prefix (`""` matches every user);
 * `{user}` in the target is replaced by the user (a trunk, a FreeSWITCH node, any SIP URI); the
 * credentials answer the target's 401/407.
 */
import { readFile } from 'node:fs/promises';

export interface StaticRoute {
  readonly prefix: string;
  /** Request-URI template, `{user}` replaced by the callee user. */
  readonly target: string;
  readonly credentials?: { readonly username: string; readonly password: string; readonly realm?: string };
}

export class RouteFileError extends Error {
  readonly code = 'UA_ROUTE_FILE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RouteFileError';
  }
}

export const MAX_ROUTES = 1024;
const PREFIX = /^[A-Za-z0-9+*#._-]{0,64}$/;
const TARGET = /^sips?:[^\s<>]+$/i;
const LINE = /^[^\r\n\0]{1,1024}$/;

export function parseRoutes(json: string): StaticRoute[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new RouteFileError('routes file is not JSON', { cause: err });
  }
  const list = (doc as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(list)) throw new RouteFileError('routes file: `routes` must be an array');
  if (list.length > MAX_ROUTES) throw new RouteFileError(`routes file: at most ${MAX_ROUTES} routes`);
  return list.map((item: unknown, i): StaticRoute => {
    const o = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const where = `route #${i + 1}`;
    const { prefix, target, username, password, realm } = o;
    if (typeof prefix !== 'string' || !PREFIX.test(prefix)) throw new RouteFileError(`${where}: prefix must be up to 64 characters of [A-Za-z0-9+*#._-]`);
    if (typeof target !== 'string' || !TARGET.test(target)) throw new RouteFileError(`${where}: target must be a sip or sips URI without spaces`);
    if (username === undefined && password === undefined) return { prefix, target };
    if (typeof username !== 'string' || !LINE.test(username) || typeof password !== 'string' || /[\r\n\0]/.test(password)) {
      throw new RouteFileError(`${where}: username and password must both be single-line strings`);
    }
    if (realm !== undefined && (typeof realm !== 'string' || !LINE.test(realm))) throw new RouteFileError(`${where}: realm must be a single-line string`);
    return { prefix, target, credentials: { username, password, ...(realm === undefined ? {} : { realm }) } };
  });
}

export async function loadRouteFile(path: string): Promise<StaticRoute[]> {
  let json: string;
  try {
    json = await readFile(path, 'utf8');
  } catch (err) {
    throw new RouteFileError(`cannot read routes file ${path}`, { cause: err });
  }
  return parseRoutes(json);
}

/** The route with the longest prefix of `user`, its target with the user filled in. */
export function matchRoute(routes: readonly StaticRoute[], user: string): { readonly requestUri: string; readonly route: StaticRoute } | undefined {
  let best: StaticRoute | undefined;
  for (const r of routes) if (user.startsWith(r.prefix) && (best === undefined || r.prefix.length > best.prefix.length)) best = r;
  if (best === undefined) return undefined;
  return { requestUri: best.target.replaceAll('{user}', encodeURIComponent(user).replace(/%2B/g, '+')), route: best };
}
