import { sql } from 'kysely';
import type { Database } from '../../db/client.js';
import type { Scope } from '../../http/auth.js';

/** The application_name of the connections that listen for key changes. */
export const KEY_LISTENER_NAME = 'posvenda-key-listener';

export interface ApiKeyRow {
  readonly id: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly keyHint: string;
  readonly managed: boolean;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

export interface NewApiKey {
  readonly id: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly keyHash: Buffer;
  readonly keyHint: string;
  readonly managed: boolean;
  readonly createdAt: Date;
}

const LISTED = [
  'id',
  'workspaceId',
  'name',
  'scopes',
  'keyHint',
  'managed',
  'createdAt',
  'lastUsedAt',
] as const;

export async function insertApiKey(db: Database, key: NewApiKey): Promise<void> {
  await db
    .insertInto('apiKeys')
    .values({ ...key, scopes: [...key.scopes] })
    .execute();
}

/** The active (not revoked) key with this hash in the workspace. */
export async function findActiveKey(db: Database, workspaceId: string, keyHash: Buffer) {
  return db
    .selectFrom('apiKeys')
    .select(['id', 'scopes', 'lastUsedAt'])
    .where('workspaceId', '=', workspaceId)
    .where('keyHash', '=', keyHash)
    .where('revokedAt', 'is', null)
    .executeTakeFirst();
}

export async function touchApiKey(db: Database, workspaceId: string, id: string, at: Date): Promise<void> {
  await db
    .updateTable('apiKeys')
    .set({ lastUsedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** Active keys, newest first, after the cursor id. */
export async function listActiveKeys(
  db: Database,
  workspaceId: string,
  options: { readonly limit: number; readonly beforeId?: string },
): Promise<ApiKeyRow[]> {
  let query = db
    .selectFrom('apiKeys')
    .select(LISTED)
    .where('workspaceId', '=', workspaceId)
    .where('revokedAt', 'is', null);
  if (options.beforeId) query = query.where('id', '<', options.beforeId);
  const rows = await query.orderBy('id', 'desc').limit(options.limit).execute();
  return rows as ApiKeyRow[];
}

/**
 * Revokes an active key that the environment does not manage. Returns what happened, so
 * the caller can tell "no such key" from "managed by POSVENDA_ADMIN_KEY".
 */
export async function revokeKey(
  db: Database,
  workspaceId: string,
  id: string,
  at: Date,
): Promise<'revoked' | 'managed' | 'not_found'> {
  const revoked = await db
    .updateTable('apiKeys')
    .set({ revokedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('revokedAt', 'is', null)
    .where('managed', '=', false)
    .returning('id')
    .executeTakeFirst();
  if (revoked) return 'revoked';
  const managed = await db
    .selectFrom('apiKeys')
    .select('id')
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('revokedAt', 'is', null)
    .where('managed', '=', true)
    .executeTakeFirst();
  return managed ? 'managed' : 'not_found';
}

/** Revokes the given keys (used when POSVENDA_ADMIN_KEY changes or is removed). */
export async function revokeKeys(
  db: Database,
  workspaceId: string,
  ids: readonly string[],
  at: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('apiKeys')
    .set({ revokedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
}

export async function findActiveManagedKeys(db: Database, workspaceId: string) {
  return db
    .selectFrom('apiKeys')
    .select(['id', 'keyHash'])
    .where('workspaceId', '=', workspaceId)
    .where('managed', '=', true)
    .where('revokedAt', 'is', null)
    .execute();
}

export async function countActiveKeys(db: Database, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('apiKeys')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('workspaceId', '=', workspaceId)
    .where('revokedAt', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** How many replicas listen for key changes now (their listener connections, by name). */
export async function countKeyListeners(db: Database): Promise<number> {
  const result = await sql<{ count: number }>`
    SELECT count(*)::int AS count FROM pg_stat_activity
    WHERE application_name = ${KEY_LISTENER_NAME} AND datname = current_database()`.execute(db);
  return result.rows[0]?.count ?? 0;
}
