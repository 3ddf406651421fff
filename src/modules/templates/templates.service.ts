import type { Clock } from '../../clock.js';
import { type Database, isUniqueViolation } from '../../db/client.js';
import { AppError, badRequest, conflict, type FieldError, notFound, unprocessable } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import { findWorkspace } from '../workspaces/workspaces.repository.js';
import { checkLiquid, type RenderedContent, renderVariant } from './render.js';
import { buildRenderContext, type CustomerInput, previewLinks, previewTrackUrl } from './render-context.js';
import { preferredTone, resolveTemplate } from './resolve.js';
import {
  checkDocumentShape,
  type TemplateBody,
  type TemplateChannel,
  type TemplateDocument,
  type TemplateVariant,
} from './template-document.js';
import {
  appendVersion,
  findLiveTemplate,
  findResolutionCandidates,
  findTemplateVersionById,
  insertTemplate,
  listLiveTemplates,
  listTemplateVersions,
  lockLiveTemplate,
  softDeleteTemplate,
  type TemplateRow,
} from './templates.repository.js';
import { assignVariant } from './variants.js';

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

function rejectIfAny(errors: readonly FieldError[]): void {
  if (errors.length > 0) {
    throw unprocessable(
      `The template is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      errors,
    );
  }
}

/** Checks a document before it is saved: channel fields, Liquid syntax, the family it names. */
async function validate(ctx: TemplatesContext, workspaceId: string, key: string, body: TemplateBody) {
  rejectIfAny([...checkDocumentShape(body), ...checkLiquid(body)]);
  const family = body.family ?? undefined;
  if (family === undefined) return;
  const path = '/body/family';
  if (family === key) rejectIfAny([{ path, message: 'a template cannot be its own family' }]);
  const head = await findLiveTemplate(ctx.db, workspaceId, family);
  if (!head) rejectIfAny([{ path, message: `no template "${family}" exists` }]);
  else if (head.document.channel !== body.channel) {
    rejectIfAny([
      { path, message: `"${family}" is a ${head.document.channel} template, not ${body.channel}` },
    ]);
  } else if (head.document.family) {
    rejectIfAny([{ path, message: `"${family}" itself belongs to the family "${head.document.family}"` }]);
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
    rejectIfAny([{ path: '/body/key', message: `must be "${key}", the key in the path, or absent` }]);
  }
  await validate(ctx, workspaceId, key, body);
  await ctx.db.transaction().execute(async (trx) => {
    const current = await lockLiveTemplate(trx, workspaceId, key);
    if (!current) throw notFound('Template');
    if (current.channel !== body.channel) {
      rejectIfAny([
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

/** Picks the variant: the one asked for, else the customer's sticky assignment. */
export function pickVariant(
  key: string,
  customerId: string,
  body: TemplateBody,
  wanted?: string,
): TemplateVariant {
  if (wanted !== undefined) {
    const found = body.variants.find((v) => v.key === wanted);
    if (!found) {
      throw unprocessable(`The template has no variant "${wanted}".`, [
        {
          path: '/body/variant',
          message: `unknown variant; known: ${body.variants.map((v) => v.key).join(', ')}`,
        },
      ]);
    }
    return found;
  }
  const assigned = assignVariant(key, customerId, body.variants);
  if (!assigned) throw unprocessable('The template has no variant with a positive weight.');
  return assigned;
}

/**
 * For the dispatcher: the template version and variant to render when a step names `key`
 * for this customer (resolution by locale and tone, then sticky variant assignment).
 * Undefined when the key names no live template. Record `template.id`, `template.version`
 * and `variant.key` on the touchpoint.
 */
export async function selectTemplateFor(
  ctx: Pick<TemplatesContext, 'db'>,
  workspaceId: string,
  key: string,
  customer: CustomerInput,
  workspaceLocale: string,
): Promise<{ readonly template: TemplateRow; readonly variant: TemplateVariant } | undefined> {
  const candidates = await findResolutionCandidates(ctx.db, workspaceId, key);
  const chosen = resolveTemplate(
    key,
    candidates.map((c) => ({ ...c, tone: c.tone as TemplateRow['document']['tone'] })),
    { locale: customer.locale, tone: preferredTone(customer), workspaceLocale },
  );
  if (!chosen) return undefined;
  const template = await findLiveTemplate(ctx.db, workspaceId, chosen.key);
  if (!template) return undefined;
  const variant = assignVariant(template.key, customer.id, template.document.variants);
  return variant ? { template, variant } : undefined;
}

export interface PreviewInput {
  readonly customer: CustomerInput;
  readonly event?: {
    readonly type: string;
    readonly occurred_at?: string;
    readonly properties?: Record<string, unknown>;
  };
  readonly usage?: { readonly metric: string; readonly value: number; readonly limit: number };
  readonly variant?: string;
  readonly version?: number;
  readonly workspace_links?: Readonly<Record<string, string>>;
}

/** Renders a template for an inline customer and event; stores nothing. */
export async function previewTemplate(
  ctx: TemplatesContext,
  workspaceId: string,
  key: string,
  input: PreviewInput,
): Promise<{ readonly template: TemplateRow; readonly variant: string; readonly rendered: RenderedContent }> {
  const template = await getTemplate(ctx, workspaceId, key, input.version);
  const workspace = await findWorkspace(ctx.db, workspaceId);
  if (!workspace) throw notFound('Workspace');
  const variant = pickVariant(key, input.customer.id, template.document, input.variant);
  const now = ctx.clock.now();
  const context = buildRenderContext({
    customer: input.customer,
    event: input.event ? { ...input.event, occurred_at: input.event.occurred_at ?? now.toISOString() } : null,
    workspace: {
      name: workspace.name,
      currency: workspace.currency.trim(),
      locale: workspace.locale,
      timezone: workspace.timezone,
      links: input.workspace_links ?? {},
    },
    usage: input.usage ?? null,
    links: previewLinks(ctx.publicUrl),
    touchpoint: null,
  });
  const rendered = await renderVariant(template.document, variant, context, {
    now,
    trackUrl: previewTrackUrl(ctx.publicUrl),
  });
  return { template, variant: variant.key, rendered };
}
