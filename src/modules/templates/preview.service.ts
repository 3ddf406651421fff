import { notFound, unprocessable } from '../../errors.js';
import { findWorkspace } from '../workspaces/workspaces.repository.js';
import { type RenderedContent, renderVariant } from './render.js';
import { buildRenderContext, type CustomerInput, previewLinks, previewTrackUrl } from './render-context.js';
import { preferredTone, resolveTemplate } from './resolve.js';
import type { TemplateBody, TemplateVariant } from './template-document.js';
import { findLiveTemplate, findResolutionCandidates, type TemplateRow } from './templates.repository.js';
import { getTemplate, type TemplatesContext } from './templates.service.js';
import { assignVariant } from './variants.js';

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

/** The look-ups template selection makes (see templateLookups). */
export interface TemplateLookups {
  candidates(workspaceId: string, key: string): ReturnType<typeof findResolutionCandidates>;
  live(workspaceId: string, key: string): Promise<TemplateRow | undefined>;
}

/**
 * Template look-ups over `db`, each answered once per workspace and key: for a transaction that
 * renders many touchpoints of the same few templates (a dispatch group), which then all render
 * the templates as the first look-up found them.
 */
export function templateLookups(db: Pick<TemplatesContext, 'db'>['db']): TemplateLookups {
  const candidates = new Map<string, ReturnType<typeof findResolutionCandidates>>();
  const live = new Map<string, Promise<TemplateRow | undefined>>();
  const once = <T>(
    memo: Map<string, Promise<T>>,
    workspaceId: string,
    key: string,
    find: () => Promise<T>,
  ) => {
    const memoKey = `${workspaceId}/${key}`;
    let found = memo.get(memoKey);
    if (!found) {
      found = find();
      memo.set(memoKey, found);
    }
    return found;
  };
  return {
    candidates: (workspaceId, key) =>
      once(candidates, workspaceId, key, () => findResolutionCandidates(db, workspaceId, key)),
    live: (workspaceId, key) => once(live, workspaceId, key, () => findLiveTemplate(db, workspaceId, key)),
  };
}

/**
 * For the dispatcher: the template version and variant to render when a step names `key`
 * for this customer (resolution by locale and tone, then sticky variant assignment).
 * Undefined when the key names no live template. Record `template.id`, `template.version`
 * and `variant.key` on the touchpoint. Looks up through `ctx.lookups` when given.
 */
export async function selectTemplateFor(
  ctx: Pick<TemplatesContext, 'db'> & { readonly lookups?: TemplateLookups },
  workspaceId: string,
  key: string,
  customer: CustomerInput,
  workspaceLocale: string,
  /** A variant to use when the resolved template has it (an alert rule switched the step to it). */
  forcedVariant?: string,
): Promise<{ readonly template: TemplateRow; readonly variant: TemplateVariant } | undefined> {
  const lookups = ctx.lookups ?? templateLookups(ctx.db);
  const candidates = await lookups.candidates(workspaceId, key);
  const chosen = resolveTemplate(
    key,
    candidates.map((c) => ({ ...c, tone: c.tone as TemplateRow['document']['tone'] })),
    { locale: customer.locale, tone: preferredTone(customer), workspaceLocale },
  );
  if (!chosen) return undefined;
  const template = await lookups.live(workspaceId, chosen.key);
  if (!template) return undefined;
  const forced = template.document.variants.find((v) => v.key === forcedVariant);
  const variant = forced ?? assignVariant(template.key, customer.id, template.document.variants);
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
