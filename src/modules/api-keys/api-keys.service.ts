import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { AppError, notFound } from '../../errors.js';
import type { Principal, Scope } from '../../http/auth.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import { generateKey, hashKey, keyHint, keyWorkspace } from './api-key-token.js';
import {
  type ApiKeyRow,
  countKeyListeners,
  findActiveKey,
  insertApiKey,
  listActiveKeys,
  revokeKey,
  touchApiKey,
} from './api-keys.repository.js';
import type { ApiKeyCache } from './key-cache.js';

export interface ApiKeysContext {
  readonly db: Database;
  readonly clock: Clock;
  /** Authenticated keys kept in memory; absent, every request looks its key up. */
  readonly keyCache?: ApiKeyCache;
}

export interface CreatedApiKey extends ApiKeyRow {
  /** The key itself: returned once, never stored. */
  readonly key: string;
}

// Writing last_used_at on every request would cost a write per read; once an hour is enough.
const TOUCH_EVERY_MS = 60 * 60 * 1000;

/** Creates a key in the workspace and returns it with its secret, which is shown this once. */
export async function createApiKey(
  ctx: ApiKeysContext,
  workspaceId: string,
  input: { readonly name: string; readonly scopes: readonly Scope[]; readonly managedKey?: string },
): Promise<CreatedApiKey> {
  const key = input.managedKey ?? generateKey(workspaceId);
  const scopes = [...new Set(input.scopes)];
  const row = {
    id: uuidv7(ctx.clock.now()),
    workspaceId,
    name: input.name,
    scopes,
    keyHash: hashKey(key),
    keyHint: keyHint(key),
    managed: input.managedKey !== undefined,
    createdAt: ctx.clock.now(),
  };
  await insertApiKey(ctx.db, row);
  const { keyHash: _hash, ...listed } = row;
  return { ...listed, lastUsedAt: null, key };
}

// Concurrent first requests with one key share its lookup.
const lookups = new WeakMap<ApiKeysContext, Map<string, Promise<Principal | undefined>>>();

/**
 * Resolves a presented key to its workspace and scopes; undefined when unknown or revoked.
 * Served from `ctx.keyCache` when it holds the key (see ApiKeyCache for when it does).
 */
export async function authenticateKey(
  ctx: ApiKeysContext,
  defaultWorkspaceId: string,
  key: string,
): Promise<Principal | undefined> {
  const hash = hashKey(key);
  const cache = ctx.keyCache;
  if (!cache) return lookUpKey(ctx, defaultWorkspaceId, key, hash);
  const cacheKey = hash.toString('base64');
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  let inFlight = lookups.get(ctx);
  if (!inFlight) {
    inFlight = new Map();
    lookups.set(ctx, inFlight);
  }
  const pending = inFlight.get(cacheKey);
  if (pending) return pending;
  const generation = cache.generation;
  const lookup = lookUpKey(ctx, defaultWorkspaceId, key, hash).then((principal) => {
    if (principal) cache.set(cacheKey, principal, generation);
    return principal;
  });
  inFlight.set(cacheKey, lookup);
  try {
    return await lookup;
  } finally {
    inFlight.delete(cacheKey);
  }
}

async function lookUpKey(
  ctx: ApiKeysContext,
  defaultWorkspaceId: string,
  key: string,
  hash: Buffer,
): Promise<Principal | undefined> {
  const workspaceId = keyWorkspace(key, defaultWorkspaceId);
  const found = await findActiveKey(ctx.db, workspaceId, hash);
  if (!found) return undefined;
  const now = ctx.clock.now();
  if (!found.lastUsedAt || now.getTime() - found.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
    // Bookkeeping only: a failure here must not fail the request.
    touchApiKey(ctx.db, workspaceId, found.id, now).catch(() => {});
  }
  return { workspaceId, keyId: found.id, scopes: found.scopes as Scope[] };
}

export async function listApiKeys(
  ctx: ApiKeysContext,
  workspaceId: string,
  query: { readonly limit: number; readonly cursor?: string },
) {
  const after = decodeCursor(query.cursor, ['id']);
  const rows = await listActiveKeys(ctx.db, workspaceId, { limit: query.limit + 1, beforeId: after?.id });
  return page(rows, query.limit, (row) => ({ id: row.id }));
}

// How long a revocation waits for the replicas to acknowledge it (see deleteApiKey).
const ACKNOWLEDGE_MS = 1000;

/**
 * Revokes a key at once: the next request made with it gets 401, on this replica and on
 * the others. Replicas hear of it through Postgres (see the migration
 * api_key_change_notify) and acknowledge; the answer waits, up to a second, for an
 * acknowledgement from every replica that was listening. One that does not answer in time
 * has lost its listener (and stops using its cache once it notices) or is stalled; its
 * cache entries expire within API_KEY_CACHE_TTL_MS regardless.
 */
export async function deleteApiKey(ctx: ApiKeysContext, workspaceId: string, id: string): Promise<void> {
  const cache = ctx.keyCache;
  const listeners = cache?.isLive ? await countKeyListeners(ctx.db) : 0;
  const acks = cache?.acknowledgements(id, listeners, ACKNOWLEDGE_MS);
  const outcome = await revokeKey(ctx.db, workspaceId, id, ctx.clock.now()).catch((error: unknown) => {
    acks?.cancel();
    throw error;
  });
  if (outcome !== 'revoked') acks?.cancel();
  if (outcome === 'not_found') throw notFound('API key');
  if (outcome === 'managed') {
    throw new AppError(
      'managed_key',
      409,
      'This key is provisioned from POSVENDA_ADMIN_KEY; change or unset that variable to revoke it.',
    );
  }
  cache?.invalidate(id);
  await acks?.wait();
}
