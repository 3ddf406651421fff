import type { Clock } from '../../clock.js';
import { type Database, isUniqueViolation } from '../../db/client.js';
import { AppError, badRequest, conflict, notFound, rejectIfAny } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import { checkLiquid } from './render.js';
import {
  checkDocumentShape,
  type TemplateBody,
  type TemplateChannel,
  type TemplateDocument,
} from './template-document.js';
import {
  appendVersion,
  findLiveTemplate,
  findTemplateVersionById,
  insertTemplate,
  listLiveTemplates,
  listTemplateVersions,
  lockLiveTemplate,
  softDeleteTemplate,
  type TemplateRow,
} from './templates.repository.js';

/**
 * The seam for "deleting a template that a playbook uses → 409". Returns the keys of the
 * playbooks whose steps name the template (directly, or through its family). The playbooks
 * issue supplies the real check when it creates its tables; until then nothing uses templates.
 */
export type TemplateUsageCheck = (
  db: Database,
  workspaceId: string,
  template: { readonly key: string; readonly family: string | null },
) => Promise<readonly string[]>;

/** No playbooks exist yet, so no template is in use. */
export const noTemplateUsage: TemplateUsageCheck = async () => [];

export interface TemplatesContext {
  readonly db: Database;
  readonly clock: Clock;
  /** Base of the preview links (PUBLIC_URL). */
  readonly publicUrl: string;
  readonly templateUsage: TemplateUsageCheck;
}

/** Checks a document before it is saved: channel fields, Liquid syntax, the family it names. */
async function validate(ctx: TemplatesContext, workspaceId: string, key: string, body: TemplateBody) {
  rejectIfAny('The template', [...checkDocumentShape(body), ...checkLiquid(body)]);
  const family = body.family ?? undefined;
  if (family === undefined) return;
  const path = '/body/family';
  if (family === key) rejectIfAny('The template', [{ path, message: 'a template cannot be its own family' }]);
  const head = await findLiveTemplate(ctx.db, workspaceId, family);
  if (!head) rejectIfAny('The template', [{ path, message: `no template "${family}" exists` }]);
  else if (head.document.channel !== body.channel) {
    rejectIfAny('The template', [
      { path, message: `"${family}" is a ${head.document.channel} template, not ${body.channel}` },
    ]);
  } else if (head.document.family) {
    rejectIfAny('The template', [
      { path, message: `"${family}" itself belongs to the family "${head.document.family}"` },
    ]);
  }
}

/** Drops absent optional fields, so stored documents hold only what was given. */
function normalise(body: TemplateBody): TemplateBody {
  const { family, ...rest } = body;
  return family ? { ...rest, family } : rest;
}

/** Creates a template at version 1; 409 when the key is taken. */
export async function createTemplate(
  ctx: TemplatesContext,
  workspaceId: string,
  input: TemplateDocument,
): Promise<TemplateRow> {
  const { key, ...body } = input;
  await validate(ctx, workspaceId, key, body);
  const now = ctx.clock.now();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await insertTemplate(trx, { workspaceId, id: uuidv7(now), key, document: normalise(body), at: now });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('template_exists', `A template with key "${key}" exists.`);
    throw error;
  }
  return getTemplate(ctx, workspaceId, key);
}

/** Saves a new version of a template; earlier versions stay readable. */
export async function replaceTemplate(
  ctx: TemplatesContext,
  workspaceId: string,
  key: string,
  input: TemplateBody & { readonly key?: string },
): Promise<TemplateRow> {
  const { key: bodyKey, ...body } = input;
  if (bodyKey !== undefined && bodyKey !== key) {
    rejectIfAny('The template', [
      { path: '/body/key', message: `must be "${key}", the key in the path, or absent` },
    ]);
  }
  await validate(ctx, workspaceId, key, body);
  await ctx.db.transaction().execute(async (trx) => {
    const current = await lockLiveTemplate(trx, workspaceId, key);
    if (!current) throw notFound('Template');
    if (current.channel !== body.channel) {
      rejectIfAny('The template', [
        {
          path: '/body/channel',
          message: `is ${current.channel}: a template keeps its channel (create another template instead)`,
        },
      ]);
    }
    await appendVersion(
      trx,
      workspaceId,
      current.id,
      current.currentVersion + 1,
      normalise(body),
      ctx.clock.now(),
    );
  });
  return getTemplate(ctx, workspaceId, key);
}

/** The live template with `key`, at its current version or the one asked for. */
export async function getTemplate(
  ctx: Pick<TemplatesContext, 'db'>,
  workspaceId: string,
  key: string,
  version?: number,
): Promise<TemplateRow> {
  const row = await findLiveTemplate(ctx.db, workspaceId, key, version);
  if (!row) throw notFound(version === undefined ? 'Template' : `Version ${version} of the template`);
  return row;
}

export async function listTemplates(
  ctx: TemplatesContext,
  workspaceId: string,
  query: {
    readonly limit: number;
    readonly cursor?: string;
    readonly channel?: TemplateChannel;
    readonly family?: string;
  },
) {
  const after = decodeCursor(query.cursor, ['key']);
  const rows = await listLiveTemplates(ctx.db, workspaceId, {
    limit: query.limit + 1,
    afterKey: after?.key,
    channel: query.channel,
    family: query.family,
  });
  return page(rows, query.limit, (row) => ({ key: row.key }));
}

/**
 * For touchpoints: the exact version a touchpoint rendered, by template id and version,
 * still readable after the template was changed or deleted.
 */
export async function getTemplateVersion(
  ctx: Pick<TemplatesContext, 'db'>,
  workspaceId: string,
  templateId: string,
  version: number,
): Promise<TemplateRow> {
  const row = await findTemplateVersionById(ctx.db, workspaceId, templateId, version);
  if (!row) throw notFound('Template version');
  return row;
}

/** The history of a live template, newest version first. */
export async function listVersions(
  ctx: TemplatesContext,
  workspaceId: string,
  key: string,
  query: { readonly limit: number; readonly cursor?: string },
) {
  const template = await getTemplate(ctx, workspaceId, key);
  const after = decodeCursor(query.cursor, ['version']);
  const before = after === undefined ? undefined : Number(after.version);
  if (before !== undefined && !Number.isInteger(before)) {
    throw badRequest('invalid_cursor', 'cursor is not one this API returned', [
      { path: '/querystring/cursor', message: 'not a valid cursor' },
    ]);
  }
  const rows = await listTemplateVersions(ctx.db, workspaceId, template.id, {
    limit: query.limit + 1,
    beforeVersion: before,
  });
  return page(rows, query.limit, (row) => ({ version: row.version }));
}

/** Soft-deletes a template; 409 while a playbook uses it. */
export async function deleteTemplate(ctx: TemplatesContext, workspaceId: string, key: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await lockLiveTemplate(trx, workspaceId, key);
    if (!current) throw notFound('Template');
    const row = await getTemplate({ db: trx }, workspaceId, key);
    const users = await ctx.templateUsage(trx, workspaceId, { key, family: row.document.family ?? null });
    if (users.length > 0) {
      throw new AppError(
        'template_in_use',
        409,
        `The template is used by the playbook${users.length > 1 ? 's' : ''} ${users.join(', ')}; ` +
          'change their steps first.',
      );
    }
    await softDeleteTemplate(trx, workspaceId, current.id, ctx.clock.now());
  });
}
