import { sql } from 'kysely';
import type { Database } from '../../db/client.js';
import type { PlaybookBody } from './playbook-document.js';

/** A live playbook with the document of one of its versions. */
export interface PlaybookRow {
  readonly id: string;
  readonly key: string;
  readonly version: number;
  readonly currentVersion: number;
  readonly document: PlaybookBody;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Playbooks joined with their versions, in one workspace: each row is one version. */
function selectVersions(db: Database, workspaceId: string) {
  return db
    .selectFrom('playbooks')
    .innerJoin('playbookVersions', (join) =>
      join
        .onRef('playbookVersions.workspaceId', '=', 'playbooks.workspaceId')
        .onRef('playbookVersions.playbookId', '=', 'playbooks.id'),
    )
    .select([
      'playbooks.id',
      'playbooks.key',
      'playbookVersions.version',
      'playbooks.currentVersion',
      'playbookVersions.document',
      'playbooks.createdAt',
      'playbookVersions.createdAt as updatedAt',
    ])
    .where('playbooks.workspaceId', '=', workspaceId);
}

function selectLive(db: Database, workspaceId: string) {
  return selectVersions(db, workspaceId).where('playbooks.deletedAt', 'is', null);
}

function toRow(row: {
  id: string;
  key: string;
  version: number;
  currentVersion: number;
  document: unknown;
  createdAt: Date;
  updatedAt: Date;
}): PlaybookRow {
  return { ...row, document: row.document as PlaybookBody };
}

/** A live playbook at a version (the current one by default). */
export async function findPlaybook(
  db: Database,
  workspaceId: string,
  key: string,
  version?: number,
): Promise<PlaybookRow | undefined> {
  let query = selectLive(db, workspaceId).where('playbooks.key', '=', key);
  query =
    version === undefined
      ? query.whereRef('playbookVersions.version', '=', 'playbooks.currentVersion')
      : query.where('playbookVersions.version', '=', version);
  const row = await query.executeTakeFirst();
  return row && toRow(row);
}

/** Live playbooks at their current version, by key, after the cursor key. */
export async function listPlaybooks(
  db: Database,
  workspaceId: string,
  options: { readonly limit: number; readonly afterKey?: string; readonly enabledOnly?: boolean },
): Promise<PlaybookRow[]> {
  let query = selectLive(db, workspaceId).whereRef(
    'playbookVersions.version',
    '=',
    'playbooks.currentVersion',
  );
  if (options.afterKey !== undefined) query = query.where('playbooks.key', '>', options.afterKey);
  if (options.enabledOnly) query = query.where('playbooks.enabled', '=', true);
  const rows = await query.orderBy('playbooks.key').limit(options.limit).execute();
  return rows.map(toRow);
}

/** Every enabled live playbook at its current version: what the engine plans with. */
export async function enabledPlaybooks(db: Database, workspaceId: string): Promise<PlaybookRow[]> {
  return listPlaybooks(db, workspaceId, { limit: 10_000, enabledOnly: true });
}

/** Playbook versions by (key, version), for running enrollments that keep older versions. */
export async function playbookVersions(
  db: Database,
  workspaceId: string,
  wanted: readonly { readonly key: string; readonly version: number }[],
): Promise<PlaybookRow[]> {
  if (wanted.length === 0) return [];
  const rows = await selectVersions(db, workspaceId)
    .where((eb) =>
      eb.or(
        wanted.map((w) =>
          eb.and([eb('playbooks.key', '=', w.key), eb('playbookVersions.version', '=', w.version)]),
        ),
      ),
    )
    .execute();
  return rows.map(toRow);
}

export async function insertPlaybook(
  db: Database,
  row: {
    readonly workspaceId: string;
    readonly id: string;
    readonly key: string;
    readonly document: PlaybookBody;
    readonly at: Date;
  },
  onConflict: 'fail' | 'ignore' = 'fail',
): Promise<boolean> {
  let insert = db.insertInto('playbooks').values({
    workspaceId: row.workspaceId,
    id: row.id,
    key: row.key,
    currentVersion: 1,
    enabled: row.document.enabled ?? true,
    createdAt: row.at,
    updatedAt: row.at,
  });
  if (onConflict === 'ignore') {
    insert = insert.onConflict((oc) =>
      oc.columns(['workspaceId', 'key']).where('deletedAt', 'is', null).doNothing(),
    );
  }
  const result = await insert.executeTakeFirst();
  if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) return false;
  await db
    .insertInto('playbookVersions')
    .values({
      workspaceId: row.workspaceId,
      playbookId: row.id,
      version: 1,
      document: JSON.stringify(row.document),
      createdAt: row.at,
    })
    .execute();
  return true;
}

/** Saves a new version and makes it current; returns its number. Call inside a transaction. */
export async function addPlaybookVersion(
  db: Database,
  workspaceId: string,
  playbookId: string,
  document: PlaybookBody,
  at: Date,
): Promise<number> {
  const updated = await db
    .updateTable('playbooks')
    .set((eb) => ({
      currentVersion: eb('currentVersion', '+', 1),
      enabled: document.enabled ?? true,
      updatedAt: at,
    }))
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', playbookId)
    .returning('currentVersion')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('playbookVersions')
    .values({
      workspaceId,
      playbookId,
      version: updated.currentVersion,
      document: JSON.stringify(document),
      createdAt: at,
    })
    .execute();
  return updated.currentVersion;
}

export async function softDeletePlaybook(
  db: Database,
  workspaceId: string,
  playbookId: string,
  at: Date,
): Promise<void> {
  await db
    .updateTable('playbooks')
    .set({ deletedAt: at, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', playbookId)
    .execute();
}

/** Keys of live playbooks whose current version has a step using one of the templates. */
export async function playbooksUsingTemplates(
  db: Database,
  workspaceId: string,
  templateKeys: readonly string[],
): Promise<string[]> {
  if (templateKeys.length === 0) return [];
  const rows = await db
    .selectFrom('playbooks')
    .innerJoin('playbookVersions', (join) =>
      join
        .onRef('playbookVersions.workspaceId', '=', 'playbooks.workspaceId')
        .onRef('playbookVersions.playbookId', '=', 'playbooks.id')
        .onRef('playbookVersions.version', '=', 'playbooks.currentVersion'),
    )
    .select('playbooks.key')
    .where('playbooks.workspaceId', '=', workspaceId)
    .where('playbooks.deletedAt', 'is', null)
    .where((eb) =>
      eb.or(
        templateKeys.map(
          (key) =>
            sql<boolean>`${eb.ref('playbookVersions.document')}->'steps' @> ${JSON.stringify([{ template: key }])}::jsonb`,
        ),
      ),
    )
    .orderBy('playbooks.key')
    .execute();
  return rows.map((row) => row.key);
}
