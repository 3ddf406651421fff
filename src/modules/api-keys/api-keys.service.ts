import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { AppError, notFound } from '../../errors.js';
import type { Principal, Scope } from '../../http/auth.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import { generateKey, hashKey, keyHint, keyWorkspace } from './api-key-token.js';
import {
  type ApiKeyRow,
  findActiveKey,
  insertApiKey,
  listActiveKeys,
  revokeKey,
  touchApiKey,
} from './api-keys.repository.js';

export interface ApiKeysContext {
  readonly db: Database;
  readonly clock: Clock;
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

/** Resolves a presented key to its workspace and scopes; undefined when unknown or revoked. */
export async function authenticateKey(
  ctx: ApiKeysContext,
  defaultWorkspaceId: string,
  key: string,
): Promise<Principal | undefined> {
  const workspaceId = keyWorkspace(key, defaultWorkspaceId);
  const found = await findActiveKey(ctx.db, workspaceId, hashKey(key));
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

/** Revokes a key at once: the next request made with it gets 401. */
export async function deleteApiKey(ctx: ApiKeysContext, workspaceId: string, id: string): Promise<void> {
  const outcome = await revokeKey(ctx.db, workspaceId, id, ctx.clock.now());
  if (outcome === 'not_found') throw notFound('API key');
  if (outcome === 'managed') {
    throw new AppError(
      'managed_key',
      409,
      'This key is provisioned from POSVENDA_ADMIN_KEY; change or unset that variable to revoke it.',
    );
  }
}
