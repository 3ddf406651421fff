import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

export const SCOPES = ['admin', 'events:write', 'read'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What a route asks of the caller: a key scope, `instance_admin` (admin of the default
 * workspace), or `public` — no key at all, for routes that check a signed token themselves.
 */
export type Access = Scope | 'instance_admin' | 'public';

/** Who is calling: the workspace and key behind the bearer token. */
export interface Principal {
  readonly workspaceId: string;
  readonly keyId: string;
  readonly scopes: readonly Scope[];
}

/** Looks a presented key up; undefined when unknown or revoked. */
export type KeyResolver = (token: string) => Promise<Principal | undefined>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Required on every authenticated route. */
    access?: Access;
  }
}

const unauthorized = (detail: string) =>
  new AppError('unauthorized', 401, detail, undefined, { 'www-authenticate': 'Bearer realm="posvenda"' });

/** Whether a key with `scopes` may use a route that asks for `access`. */
export function allows(
  principal: Principal,
  access: Exclude<Access, 'public'>,
  defaultWorkspaceId: string,
): boolean {
  if (access === 'instance_admin') {
    return principal.workspaceId === defaultWorkspaceId && principal.scopes.includes('admin');
  }
  return principal.scopes.includes('admin') || principal.scopes.includes(access);
}

/** Reads `Authorization: Bearer <key>`; undefined when absent or not a bearer token. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export interface AuthOptions {
  readonly resolveKey: KeyResolver;
  readonly defaultWorkspaceId: string;
}

/**
 * Authenticates every route of the scope it is registered in. Each route must declare
 * `config.access`; a route without it fails at start-up, so none is public by accident
 * (a public route says `access: 'public'` in so many words).
 */
export const authPlugin = fp<AuthOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('principal', null as unknown as Principal);

    app.addHook('onRoute', (route) => {
      const access = route.config?.access;
      if (!access) throw new Error(`route ${route.method} ${route.url} declares no config.access`);
      if (access === 'public') return;
      route.schema = { ...route.schema, security: [{ bearerAuth: [] }] };
    });

    app.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access;
      // No access: the 404 handler and the like. Public: the route checks its own signed token.
      if (!access || access === 'public') return;
      const token = bearerToken(request);
      if (!token) throw unauthorized('Send the API key as "Authorization: Bearer <key>".');
      const principal = await options.resolveKey(token);
      if (!principal) throw unauthorized('The API key is not valid or has been revoked.');
      if (!allows(principal, access, options.defaultWorkspaceId)) {
        const need =
          access === 'instance_admin' ? 'an admin key of the default workspace' : `the "${access}" scope`;
        throw new AppError('forbidden', 403, `This API key lacks ${need}.`);
      }
      request.principal = principal;
    });
  },
  { name: 'posvenda-auth' },
);
