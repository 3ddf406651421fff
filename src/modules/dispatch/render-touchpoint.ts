import type { Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { AppError } from '../../errors.js';
import { conditionCustomer } from '../customers/customer-conditions.js';
import { toCustomerState } from '../customers/customer-state.js';
import { selectTemplateFor, type TemplateLookups } from '../templates/preview.service.js';
import { type RenderedContent, renderVariant } from '../templates/render.js';
import { buildRenderContext, type CustomerInput } from '../templates/render-context.js';
import type { TrackingLinks } from '../tracking/tracking-links.js';
import { effectiveSettings, type SettingsOverrides } from '../workspaces/settings.js';
import type { DispatchTouchpointRow, LockedCustomer, Surroundings } from './dispatch.repository.js';

export type { Surroundings } from './dispatch.repository.js';

/** The content stored on a touchpoint: what was rendered, and when. */
export type StoredContent = RenderedContent & { readonly rendered_at: string };

export type RenderResult =
  | {
      readonly kind: 'rendered';
      readonly content: StoredContent;
      readonly templateVersion: number;
      readonly variant: string;
    }
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly message: string };

export interface RenderInput {
  readonly touchpoint: DispatchTouchpointRow;
  readonly customer: LockedCustomer;
  readonly surroundings: Surroundings;
  readonly now: Date;
  readonly links: TrackingLinks;
  /** The transaction's template look-ups, shared by the touchpoints it renders. */
  readonly lookups: TemplateLookups;
}

/** The trigger event as templates and conditions see it, or null for date and idle triggers. */
export function triggerEvent(s: Surroundings) {
  if (!s.event) return null;
  return {
    type: s.event.type,
    occurred_at: s.event.occurredAt.toISOString(),
    properties: JSON.parse(s.event.propertiesText) as Record<string, unknown>,
  };
}

function usageOf(event: ReturnType<typeof triggerEvent>) {
  if (event?.type !== 'usage') return null;
  const { metric, value, limit } = event.properties;
  if (typeof metric !== 'string' || typeof value !== 'number' || typeof limit !== 'number') return null;
  return { metric, value, limit };
}

/**
 * Renders the touchpoint's template for its customer as they are now, with the signed
 * tracking links of this touchpoint: the template resolved by locale and tone, the
 * customer's sticky A/B variant (or the one an alert rule switched the step to), clicks wrapped
 * by the `track` filter.
 */
export async function renderTouchpoint(trx: Transaction<DB>, input: RenderInput): Promise<RenderResult> {
  const { touchpoint: tp, customer, surroundings: s, now } = input;
  const state = toCustomerState(customer);
  const profile: CustomerInput = {
    id: customer.externalId,
    name: customer.name,
    email: customer.email,
    phone: customer.phone,
    segment: customer.segment,
    locale: customer.locale,
    timezone: customer.timezone,
    attributes: state.attributes,
    facts: conditionCustomer(state, now),
  };
  const selection = await selectTemplateFor(
    { db: trx, lookups: input.lookups },
    tp.workspaceId,
    tp.templateKey,
    profile,
    s.workspace.locale,
    s.variantOverride,
  );
  if (!selection) return { kind: 'missing' };
  const event = triggerEvent(s);
  const context = buildRenderContext({
    customer: profile,
    event,
    workspace: {
      name: s.workspace.name,
      currency: s.workspace.currency.trim(),
      locale: s.workspace.locale,
      timezone: s.workspace.timezone,
      links: effectiveSettings(s.workspace, s.workspace.settings as SettingsOverrides).links,
    },
    usage: usageOf(event),
    links: input.links.context,
    touchpoint: { id: tp.id, due_at: tp.dueAt.toISOString() },
  });
  try {
    const rendered = await renderVariant(selection.template.document, selection.variant, context, {
      now,
      trackUrl: input.links.trackUrl,
    });
    return {
      kind: 'rendered',
      content: { rendered_at: now.toISOString(), ...rendered },
      templateVersion: selection.template.version,
      variant: selection.variant.key,
    };
  } catch (error) {
    if (error instanceof AppError) return { kind: 'error', message: error.detail };
    throw error;
  }
}
