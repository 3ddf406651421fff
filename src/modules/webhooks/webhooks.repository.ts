import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

type Db = Kysely<DB> | Transaction<DB>;

/** An endpoint as the API shows it (never its secret). */
export interface EndpointRow {
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly description: string | null;
  readonly enabled: boolean;
  readonly disabledReason: string | null;
  readonly createdAt: Date;
  /** Until when the secret a rotation replaced still signs (null: no rotation pending). */
  readonly previousSecretExpiresAt: Date | null;
}

export interface NewEndpoint {
  readonly workspaceId: string;
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly description: string | null;
  readonly secretCiphertext: Buffer;
  readonly createdAt: Date;
}

const LISTED = [
  'id',
  'url',
  'events',
  'description',
  'enabled',
  'disabledReason',
  'createdAt',
  'previousSecretExpiresAt',
] as const;

/** Stores a new endpoint. */
export async function insertEndpoint(db: Db, endpoint: NewEndpoint): Promise<void> {
  await db
    .insertInto('webhookEndpoints')
    .values({ ...endpoint, events: [...endpoint.events], updatedAt: endpoint.createdAt })
    .execute();
}

/** The workspace's endpoint, unless deleted. */
export async function findEndpoint(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<EndpointRow | undefined> {
  return db
    .selectFrom('webhookEndpoints')
    .select(LISTED)
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('deletedAt', 'is', null)
    .executeTakeFirst();
}

/** Endpoints not deleted, newest first, after the cursor id. */
export async function listEndpoints(
  db: Db,
  workspaceId: string,
  options: { readonly limit: number; readonly beforeId?: string },
): Promise<EndpointRow[]> {
  let query = db
    .selectFrom('webhookEndpoints')
    .select(LISTED)
    .where('workspaceId', '=', workspaceId)
    .where('deletedAt', 'is', null);
  if (options.beforeId) query = query.where('id', '<', options.beforeId);
  return query.orderBy('id', 'desc').limit(options.limit).execute();
}

/**
 * Marks the endpoint deleted and erases its signing secrets; false when there was none to
 * delete. Nothing signs for a deleted endpoint again (its waiting deliveries are cancelled with
 * it, an attempt claimed meanwhile sees it gone before opening the secret, and neither its
 * deliveries nor a retry can be reached through the API), and a secret not kept cannot leak.
 * The row stays for its delivery log until retention removes that.
 */
export async function markEndpointDeleted(
  db: Db,
  workspaceId: string,
  id: string,
  at: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('webhookEndpoints')
    .set({
      deletedAt: at,
      updatedAt: at,
      secretCiphertext: Buffer.alloc(0),
      previousSecretCiphertext: null,
      previousSecretExpiresAt: null,
    })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('deletedAt', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Stops an endpoint from receiving anything more; false when it already was disabled. */
export async function disableEndpoint(
  db: Db,
  workspaceId: string,
  id: string,
  reason: string,
  at: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('webhookEndpoints')
    .set({ enabled: false, disabledReason: reason, disabledAt: at, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('enabled', '=', true)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export interface EndpointChanges {
  readonly url?: string;
  readonly events?: readonly string[];
  readonly description?: string | null;
  readonly enabled?: boolean;
}

/** Applies the changes to a live endpoint and returns it; undefined when there is none. */
export async function updateEndpoint(
  db: Db,
  workspaceId: string,
  id: string,
  changes: EndpointChanges,
  at: Date,
): Promise<EndpointRow | undefined> {
  const enabling =
    changes.enabled === undefined
      ? {}
      : changes.enabled
        ? { enabled: true, disabledReason: null, disabledAt: null }
        : { enabled: false, disabledReason: 'manual', disabledAt: at };
  return db
    .updateTable('webhookEndpoints')
    .set({
      ...(changes.url !== undefined ? { url: changes.url } : {}),
      ...(changes.events !== undefined ? { events: [...changes.events] } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...enabling,
      updatedAt: at,
    })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('deletedAt', 'is', null)
    .returning(LISTED)
    .executeTakeFirst();
}

/**
 * Replaces a live endpoint's secret. The one it replaces keeps signing until `previousUntil`
 * (null: it stops at once); a secret an earlier rotation left in its grace period stops now.
 * Returns the endpoint, or undefined when there is none.
 */
export async function rotateEndpointSecret(
  db: Db,
  workspaceId: string,
  id: string,
  secretCiphertext: Buffer,
  previousUntil: Date | null,
  at: Date,
): Promise<EndpointRow | undefined> {
  return db
    .updateTable('webhookEndpoints')
    .set((eb) => ({
      // The right-hand sides read the row as it was, so the previous secret is the replaced one.
      previousSecretCiphertext: previousUntil === null ? null : eb.ref('secretCiphertext'),
      previousSecretExpiresAt: previousUntil,
      secretCiphertext,
      updatedAt: at,
    }))
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('deletedAt', 'is', null)
    .returning(LISTED)
    .executeTakeFirst();
}
