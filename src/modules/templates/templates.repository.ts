import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { TemplateBody, TemplateChannel, Tone } from './template-document.js';

type Db = Kysely<DB> | Transaction<DB>;

/** A template with the document of one of its versions. */
export interface TemplateRow {
  readonly id: string;
  readonly key: string;
  readonly version: number;
  readonly currentVersion: number;
  readonly document: TemplateBody;
  readonly createdAt: Date;
  /** When this version was saved. */
  readonly updatedAt: Date;
  readonly deletedAt: Date | null;
}

export interface NewTemplate {
  readonly workspaceId: string;
  readonly id: string;
  readonly key: string;
  readonly document: TemplateBody;
  readonly at: Date;
}

// The document is read as text and parsed here: the CamelCasePlugin would otherwise rename
// the keys inside it (value_proposal → valueProposal, and the shop's own payload keys).
const documentText = sql<string>`template_versions.document::text`.as('documentText');

function selectWithVersion(db: Db, workspaceId: string) {
  return db
    .selectFrom('templates')
    .innerJoin('templateVersions', (join) =>
      join
        .onRef('templateVersions.workspaceId', '=', 'templates.workspaceId')
        .onRef('templateVersions.templateId', '=', 'templates.id'),
    )
    .select([
      'templates.id',
      'templates.key',
      'templates.currentVersion',
      'templates.createdAt',
      'templates.deletedAt',
      'templateVersions.version',
      'templateVersions.createdAt as updatedAt',
      documentText,
    ])
    .where('templates.workspaceId', '=', workspaceId);
}

type Selected = Omit<TemplateRow, 'document'> & { readonly documentText: string };

function toRow({ documentText: text, ...row }: Selected): TemplateRow {
  return { ...row, document: JSON.parse(text) as TemplateBody };
}

function columns(document: TemplateBody) {
  return {
    channel: document.channel as TemplateChannel,
    locale: document.locale,
    tone: document.tone as Tone,
    family: document.family ?? null,
  };
}

/**
 * Inserts a template and its version 1. With `ifKeyNeverUsed`, does nothing when the key
 * exists or existed (deleted) in the workspace — how the seed library stays out of the way
 * of a shop's edits and deletions. Returns whether it inserted.
 */
export async function insertTemplate(
  db: Transaction<DB>,
  template: NewTemplate,
  options: { readonly ifKeyNeverUsed?: boolean } = {},
): Promise<boolean> {
  if (options.ifKeyNeverUsed) {
    const used = await db
      .selectFrom('templates')
      .select('id')
      .where('workspaceId', '=', template.workspaceId)
      .where('key', '=', template.key)
      .executeTakeFirst();
    if (used) return false;
  }
  let insert = db.insertInto('templates').values({
    workspaceId: template.workspaceId,
    id: template.id,
    key: template.key,
    ...columns(template.document),
    currentVersion: 1,
    createdAt: template.at,
    updatedAt: template.at,
  });
  if (options.ifKeyNeverUsed) {
    insert = insert.onConflict((oc) =>
      oc.columns(['workspaceId', 'key']).where('deletedAt', 'is', null).doNothing(),
    );
  }
  const inserted = await insert.executeTakeFirst();
  if ((inserted.numInsertedOrUpdatedRows ?? 0n) === 0n) return false;
  await insertVersion(db, template.workspaceId, template.id, 1, template.document, template.at);
  return true;
}

async function insertVersion(
  db: Db,
  workspaceId: string,
  templateId: string,
  version: number,
  document: TemplateBody,
  at: Date,
): Promise<void> {
  await db
    .insertInto('templateVersions')
    .values({ workspaceId, templateId, version, document: JSON.stringify(document), createdAt: at })
    .execute();
}

/** The live template with this key, with its current version (or `version` when given). */
export async function findLiveTemplate(
  db: Db,
  workspaceId: string,
  key: string,
  version?: number,
): Promise<TemplateRow | undefined> {
  let query = selectWithVersion(db, workspaceId)
    .where('templates.key', '=', key)
    .where('templates.deletedAt', 'is', null);
  query =
    version === undefined
      ? query.whereRef('templateVersions.version', '=', 'templates.currentVersion')
      : query.where('templateVersions.version', '=', version);
  const row = await query.executeTakeFirst();
  return row ? toRow(row) : undefined;
}

/** One version of a template by id, deleted or not: what a touchpoint rendered. */
export async function findTemplateVersionById(
  db: Db,
  workspaceId: string,
  templateId: string,
  version: number,
): Promise<TemplateRow | undefined> {
  const row = await selectWithVersion(db, workspaceId)
    .where('templates.id', '=', templateId)
    .where('templateVersions.version', '=', version)
    .executeTakeFirst();
  return row ? toRow(row) : undefined;
}

/** Live templates at their current version, by key, after the cursor key. */
export async function listLiveTemplates(
  db: Db,
  workspaceId: string,
  options: {
    readonly limit: number;
    readonly afterKey?: string;
    readonly channel?: TemplateChannel;
    readonly family?: string;
  },
): Promise<TemplateRow[]> {
  let query = selectWithVersion(db, workspaceId)
    .where('templates.deletedAt', 'is', null)
    .whereRef('templateVersions.version', '=', 'templates.currentVersion');
  if (options.afterKey !== undefined) query = query.where('templates.key', '>', options.afterKey);
  if (options.channel) query = query.where('templates.channel', '=', options.channel);
  if (options.family !== undefined) {
    const family = options.family;
    query = query.where((eb) =>
      eb.or([eb('templates.key', '=', family), eb('templates.family', '=', family)]),
    );
  }
  const rows = await query.orderBy('templates.key').limit(options.limit).execute();
  return rows.map(toRow);
}

/** The versions of one template, newest first, before the cursor version. */
export async function listTemplateVersions(
  db: Db,
  workspaceId: string,
  templateId: string,
  options: { readonly limit: number; readonly beforeVersion?: number },
): Promise<TemplateRow[]> {
  let query = selectWithVersion(db, workspaceId).where('templates.id', '=', templateId);
  if (options.beforeVersion !== undefined) {
    query = query.where('templateVersions.version', '<', options.beforeVersion);
  }
  const rows = await query.orderBy('templateVersions.version', 'desc').limit(options.limit).execute();
  return rows.map(toRow);
}

/** Locks the live template with this key for an update; its current version number. */
export async function lockLiveTemplate(
  db: Transaction<DB>,
  workspaceId: string,
  key: string,
): Promise<{ readonly id: string; readonly currentVersion: number; readonly channel: string } | undefined> {
  return db
    .selectFrom('templates')
    .select(['id', 'currentVersion', 'channel'])
    .where('workspaceId', '=', workspaceId)
    .where('key', '=', key)
    .where('deletedAt', 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

/** Saves `document` as the next version of a locked template and points the template at it. */
export async function appendVersion(
  db: Transaction<DB>,
  workspaceId: string,
  templateId: string,
  version: number,
  document: TemplateBody,
  at: Date,
): Promise<void> {
  await insertVersion(db, workspaceId, templateId, version, document, at);
  await db
    .updateTable('templates')
    .set({ ...columns(document), currentVersion: version, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', templateId)
    .execute();
}

/** Marks a template deleted; its versions stay for the touchpoints that rendered them. */
export async function softDeleteTemplate(db: Db, workspaceId: string, templateId: string, at: Date) {
  await db
    .updateTable('templates')
    .set({ deletedAt: at, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', templateId)
    .execute();
}

/** The live templates a step naming `key` may resolve to: `key` and its family. */
export async function findResolutionCandidates(db: Db, workspaceId: string, key: string) {
  return db
    .selectFrom('templates')
    .select(['key', 'locale', 'tone', 'family'])
    .where('workspaceId', '=', workspaceId)
    .where('deletedAt', 'is', null)
    .where((eb) => eb.or([eb('key', '=', key), eb('family', '=', key)]))
    .execute();
}

/** The channel of each live template among `keys` (absent keys are not in the map). */
export async function liveTemplateChannels(
  db: Db,
  workspaceId: string,
  keys: readonly string[],
): Promise<ReadonlyMap<string, string>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom('templates')
    .select(['key', 'channel'])
    .where('workspaceId', '=', workspaceId)
    .where('key', 'in', keys)
    .where('deletedAt', 'is', null)
    .execute();
  return new Map(rows.map((row) => [row.key, row.channel]));
}
