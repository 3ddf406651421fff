import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { Json } from '../../db/types.js';
import { type FieldError, notFound, rejectIfAny } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import { type CreatedApiKey, createApiKey } from '../api-keys/api-keys.service.js';
import { installPlaybookLibrary } from '../playbooks/library.js';
import { installTemplateLibrary } from '../templates/library.js';
import {
  checkLocaleFields,
  effectiveSettings,
  type KpiKey,
  type KpiTarget,
  type SettingsOverrides,
  type WorkspaceSettings,
} from './settings.js';
import {
  findWorkspace,
  insertWorkspace,
  listWorkspaces as listWorkspaceRows,
  lockWorkspace,
  updateWorkspace,
  type WorkspaceRow,
} from './workspaces.repository.js';

/** The workspace that exists from the first start; its admins can create other workspaces. */
export const DEFAULT_WORKSPACE_ID = '00000000-0000-7000-8000-000000000001';

export const WORKSPACE_DEFAULTS = {
  timezone: 'America/Sao_Paulo',
  country: 'BR',
  currency: 'BRL',
  locale: 'pt-BR',
} as const;

export interface WorkspacesContext {
  readonly db: Database;
  readonly clock: Clock;
}

export interface NewWorkspaceInput {
  readonly name: string;
  readonly timezone?: string;
  readonly country?: string;
  readonly currency?: string;
  readonly locale?: string;
}

/** Creates a workspace with its first admin key and the seed template library, in one transaction. */
export async function createWorkspace(
  ctx: WorkspacesContext,
  input: NewWorkspaceInput,
): Promise<{ workspace: WorkspaceRow; adminKey: CreatedApiKey }> {
  rejectIfAny('The request', checkLocaleFields(input));
  const now = ctx.clock.now();
  const row = {
    id: uuidv7(now),
    name: input.name,
    timezone: input.timezone ?? WORKSPACE_DEFAULTS.timezone,
    country: input.country ?? WORKSPACE_DEFAULTS.country,
    currency: input.currency ?? WORKSPACE_DEFAULTS.currency,
    locale: input.locale ?? WORKSPACE_DEFAULTS.locale,
    createdAt: now,
    updatedAt: now,
  };
  return ctx.db.transaction().execute(async (trx) => {
    await insertWorkspace(trx, row);
    const adminKey = await createApiKey({ db: trx, clock: ctx.clock }, row.id, {
      name: 'admin',
      scopes: ['admin'],
    });
    await installTemplateLibrary(trx, row.id, now);
    await installPlaybookLibrary(trx, row.id, now);
    return { workspace: { ...row, settings: {} }, adminKey };
  });
}

/** Creates the default workspace if it does not exist yet (idempotent, race-safe). */
export async function ensureDefaultWorkspace(ctx: WorkspacesContext): Promise<void> {
  const now = ctx.clock.now();
  await insertWorkspace(
    ctx.db,
    { id: DEFAULT_WORKSPACE_ID, name: 'Default', ...WORKSPACE_DEFAULTS, createdAt: now, updatedAt: now },
    'ignore',
  );
}

export async function getWorkspace(ctx: WorkspacesContext, id: string): Promise<WorkspaceRow> {
  const row = await findWorkspace(ctx.db, id);
  if (!row) throw notFound('Workspace');
  return row;
}

export async function listWorkspaces(
  ctx: WorkspacesContext,
  query: { readonly limit: number; readonly cursor?: string },
) {
  const after = decodeCursor(query.cursor, ['id']);
  const rows = await listWorkspaceRows(ctx.db, { limit: query.limit + 1, beforeId: after?.id });
  return page(rows, query.limit, (row) => ({ id: row.id }));
}

/** The workspace's effective settings (its own values over the defaults). */
export async function getSettings(ctx: WorkspacesContext, workspaceId: string): Promise<WorkspaceSettings> {
  const row = await getWorkspace(ctx, workspaceId);
  return effectiveSettings(row, row.settings as SettingsOverrides);
}

export interface SettingsPatchInput {
  readonly timezone?: string;
  readonly country?: string;
  readonly currency?: string;
  readonly locale?: string;
  readonly late_grace?: string;
  readonly quiet_hours?: { readonly start: string; readonly end: string } | null;
  readonly frequency_caps?: SettingsOverrides['frequency_caps'];
  readonly kpi_targets?: Partial<Record<KpiKey, KpiTarget | null>>;
  readonly links?: Readonly<Record<string, string | null>>;
}

function checkTargets(targets: SettingsPatchInput['kpi_targets']): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, target] of Object.entries(targets ?? {})) {
    if (!target) continue;
    const wrongSide = target.op === 'gte' ? target.warn > target.value : target.warn < target.value;
    if (wrongSide) {
      errors.push({
        path: `/body/kpi_targets/${key}/warn`,
        message: `must be ${target.op === 'gte' ? 'at most' : 'at least'} value (${target.value}) when op is ${target.op}`,
      });
    }
  }
  return errors;
}

/** Applies a partial update of the settings; fields not given keep their values. */
export async function patchSettings(
  ctx: WorkspacesContext,
  workspaceId: string,
  patch: SettingsPatchInput,
): Promise<WorkspaceSettings> {
  rejectIfAny('The request', [...checkLocaleFields(patch), ...checkTargets(patch.kpi_targets)]);
  return ctx.db.transaction().execute(async (trx) => {
    const row = await lockWorkspace(trx, workspaceId);
    if (!row) throw notFound('Workspace');
    const stored = { ...(row.settings as SettingsOverrides) };
    if (patch.late_grace !== undefined) stored.late_grace = patch.late_grace;
    if (patch.quiet_hours !== undefined) stored.quiet_hours = patch.quiet_hours;
    if (patch.frequency_caps) stored.frequency_caps = { ...stored.frequency_caps, ...patch.frequency_caps };
    if (patch.kpi_targets) {
      const targets = { ...stored.kpi_targets };
      for (const [key, target] of Object.entries(patch.kpi_targets) as [KpiKey, KpiTarget | null][]) {
        if (target === null) delete targets[key];
        else targets[key] = target;
      }
      stored.kpi_targets = targets;
    }
    if (patch.links) {
      const links = { ...stored.links };
      for (const [name, url] of Object.entries(patch.links)) {
        if (url === null) delete links[name];
        else links[name] = url;
      }
      stored.links = links;
    }
    const updated = await updateWorkspace(trx, workspaceId, {
      timezone: patch.timezone,
      country: patch.country,
      currency: patch.currency,
      locale: patch.locale,
      settings: stored as Json,
      updatedAt: ctx.clock.now(),
    });
    return effectiveSettings(updated, stored);
  });
}
