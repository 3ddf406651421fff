import type { Database } from '../../db/client.js';
import type { Json } from '../../db/types.js';

export interface WorkspaceRow {
  readonly id: string;
  readonly name: string;
  readonly timezone: string;
  readonly country: string;
  readonly currency: string;
  readonly locale: string;
  readonly settings: Json;
  readonly createdAt: Date;
}

const COLUMNS = ['id', 'name', 'timezone', 'country', 'currency', 'locale', 'settings', 'createdAt'] as const;

export async function insertWorkspace(
  db: Database,
  row: Omit<WorkspaceRow, 'settings'> & { readonly updatedAt: Date },
  onConflict: 'fail' | 'ignore' = 'fail',
): Promise<boolean> {
  let query = db.insertInto('workspaces').values({ ...row, settings: '{}' });
  if (onConflict === 'ignore') query = query.onConflict((oc) => oc.column('id').doNothing());
  const result = await query.executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function findWorkspace(db: Database, id: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').select(COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** Workspaces, newest first, before the cursor id. */
export async function listWorkspaces(
  db: Database,
  options: { readonly limit: number; readonly beforeId?: string },
): Promise<WorkspaceRow[]> {
  let query = db.selectFrom('workspaces').select(COLUMNS);
  if (options.beforeId) query = query.where('id', '<', options.beforeId);
  return query.orderBy('id', 'desc').limit(options.limit).execute();
}

/** Reads a workspace for update, so concurrent settings patches apply one after the other. */
export async function lockWorkspace(db: Database, id: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').select(COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateWorkspace(
  db: Database,
  id: string,
  changes: {
    readonly timezone?: string;
    readonly country?: string;
    readonly currency?: string;
    readonly locale?: string;
    readonly settings: Json;
    readonly updatedAt: Date;
  },
): Promise<WorkspaceRow> {
  return db
    .updateTable('workspaces')
    .set({ ...changes, settings: JSON.stringify(changes.settings) })
    .where('id', '=', id)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}
