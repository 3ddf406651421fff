import { Duration } from 'luxon';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { type FieldError, notFound, rejectIfAny } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import { findPlaybook } from '../playbooks/playbooks.repository.js';
import { findLiveTemplate } from '../templates/templates.repository.js';
import { KPI_KEYS } from '../workspaces/settings.js';
import {
  type AlertRuleRow,
  type Comparison,
  deleteAlertRule,
  insertAlertRule,
  listAlertRules,
  type SwitchVariantAction,
} from './alerts.repository.js';
import { deleteVariantOverride, listVariantOverrides } from './variant-overrides.js';

export interface AlertsContext {
  readonly db: Database;
  readonly clock: Clock;
}

export interface AlertRuleInput {
  readonly kpi: string;
  readonly window: string;
  readonly segment?: string;
  readonly comparison: Comparison;
  readonly threshold: number;
  readonly cooldown?: string;
  readonly action?: SwitchVariantAction;
}

/** No second trigger within this long of the last one, unless the rule says otherwise. */
export const DEFAULT_COOLDOWN = 'PT1H';
/** The longest trailing window a rule may watch. */
const MAX_WINDOW_DAYS = 366;

/** A positive ISO-8601 duration, at most `maxDays` long; undefined when not. */
export function parseDuration(text: string, maxDays: number, allowZero = false): Duration | undefined {
  const duration = Duration.fromISO(text);
  if (!duration.isValid) return undefined;
  const ms = duration.as('milliseconds');
  if (ms < 0 || (!allowZero && ms === 0) || ms > maxDays * 24 * 60 * 60 * 1000) return undefined;
  return duration;
}

/** Whether a value meets a rule's comparison. */
export function holds(comparison: Comparison, value: number, threshold: number): boolean {
  switch (comparison) {
    case 'lt':
      return value < threshold;
    case 'lte':
      return value <= threshold;
    case 'gt':
      return value > threshold;
    case 'gte':
      return value >= threshold;
  }
}

/** Everything about a rule a JSON schema cannot check: known KPI, durations, and the action's playbook, step and variant. */
async function checkRule(
  ctx: AlertsContext,
  workspaceId: string,
  input: AlertRuleInput,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  if (!(KPI_KEYS as readonly string[]).includes(input.kpi)) {
    errors.push({ path: '/body/kpi', message: `unknown KPI "${input.kpi}"; one of ${KPI_KEYS.join(', ')}` });
  }
  if (!parseDuration(input.window, MAX_WINDOW_DAYS)) {
    errors.push({
      path: '/body/window',
      message: `must be a positive ISO-8601 duration of at most ${MAX_WINDOW_DAYS} days, such as P30D`,
    });
  }
  if (input.cooldown !== undefined && !parseDuration(input.cooldown, MAX_WINDOW_DAYS, true)) {
    errors.push({ path: '/body/cooldown', message: 'must be an ISO-8601 duration such as PT1H or P1D' });
  }
  const target = input.action?.switch_variant;
  if (target) {
    const base = '/body/action/switch_variant';
    const playbook = await findPlaybook(ctx.db, workspaceId, target.playbook);
    const step = playbook?.document.steps.find((s) => s.key === target.step);
    const template = step && (await findLiveTemplate(ctx.db, workspaceId, step.template));
    if (!playbook) {
      errors.push({ path: `${base}/playbook`, message: `no playbook "${target.playbook}"` });
    } else if (!step) {
      errors.push({
        path: `${base}/step`,
        message: `playbook "${target.playbook}" has no step "${target.step}"`,
      });
    } else if (!template?.document.variants.some((v) => v.key === target.variant)) {
      errors.push({
        path: `${base}/variant`,
        message: `template "${step.template}" of step "${target.step}" has no variant "${target.variant}"`,
      });
    }
  }
  return errors;
}

/** Creates a rule after checking it; 422 naming each bad field. */
export async function createAlertRule(
  ctx: AlertsContext,
  workspaceId: string,
  input: AlertRuleInput,
): Promise<AlertRuleRow> {
  rejectIfAny('The alert rule', await checkRule(ctx, workspaceId, input));
  const now = ctx.clock.now();
  return insertAlertRule(ctx.db, {
    workspaceId,
    id: uuidv7(now),
    kpi: input.kpi,
    window: input.window,
    segment: input.segment ?? null,
    comparison: input.comparison,
    threshold: input.threshold,
    cooldown: input.cooldown ?? DEFAULT_COOLDOWN,
    action: input.action ?? null,
    createdAt: now,
  });
}

export async function listRules(
  ctx: AlertsContext,
  workspaceId: string,
  query: { readonly limit: number; readonly cursor?: string },
) {
  const after = decodeCursor(query.cursor, ['id']);
  const rows = await listAlertRules(ctx.db, workspaceId, { limit: query.limit + 1, afterId: after?.id });
  return page(rows, query.limit, (row) => ({ id: row.id }));
}

export async function removeAlertRule(ctx: AlertsContext, workspaceId: string, id: string): Promise<void> {
  if (!(await deleteAlertRule(ctx.db, workspaceId, id))) throw notFound('alert rule');
}

/** The steps switched to a variant by alert actions, by playbook and step key. */
export async function listOverrides(
  ctx: AlertsContext,
  workspaceId: string,
  query: { readonly limit: number; readonly cursor?: string },
) {
  const after = decodeCursor(query.cursor, ['playbook', 'step']);
  const rows = await listVariantOverrides(ctx.db, workspaceId, { limit: query.limit + 1, after });
  return page(rows, query.limit, (row) => ({ playbook: row.playbookKey, step: row.stepKey }));
}

/** Clears a step's override (its touchpoints go back to the weighted choice); 404 when it has none. */
export async function clearOverride(
  ctx: AlertsContext,
  workspaceId: string,
  playbook: string,
  step: string,
): Promise<void> {
  if (!(await deleteVariantOverride(ctx.db, workspaceId, playbook, step))) throw notFound('variant override');
}
