import { Duration } from 'luxon';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { conflict, notFound, rejectIfAny } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import { nationalHolidays } from '../../rules/holidays.js';
import { Simulation } from '../../rules/simulate.js';
import type { PlanSettings } from '../../rules/types.js';
import { getSettings } from '../workspaces/workspaces.service.js';
import { checkPlaybookDocument, type PlaybookBody, toEnginePlaybook } from './playbook-document.js';
import {
  addPlaybookVersion,
  findPlaybook,
  insertPlaybook,
  listPlaybooks as listPlaybookRows,
  type PlaybookRow,
  softDeletePlaybook,
} from './playbooks.repository.js';

/** Tells which templates exist and their channels: the playbook checks its steps against it. */
export type TemplateChannels = (
  db: Database,
  workspaceId: string,
  keys: readonly string[],
) => Promise<ReadonlyMap<string, string>>;

/** Ends the running enrollments of a deleted playbook (cancelling what they had pending). */
export type EndEnrollments = (
  db: Database,
  workspaceId: string,
  playbookKey: string,
  at: Date,
) => Promise<void>;

export interface PlaybooksContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly templateChannels: TemplateChannels;
  readonly endEnrollments: EndEnrollments;
}

/** Checks a document, its template references included, before it is saved. */
async function checkDocument(
  ctx: PlaybooksContext,
  db: Database,
  workspaceId: string,
  doc: PlaybookBody,
): Promise<void> {
  const errors = checkPlaybookDocument(doc);
  const keys = [...new Set(doc.steps.map((step) => step.template))];
  const channels = await ctx.templateChannels(db, workspaceId, keys);
  doc.steps.forEach((step, i) => {
    const channel = channels.get(step.template);
    if (channel === undefined) {
      errors.push({ path: `/body/steps/${i}/template`, message: `no template "${step.template}" exists` });
    } else if (channel !== step.channel) {
      errors.push({
        path: `/body/steps/${i}/template`,
        message: `"${step.template}" is a ${channel} template but the step's channel is ${step.channel}`,
      });
    }
  });
  rejectIfAny('The playbook', errors);
}

/** The stored document: defaults made explicit, so every version reads the same way. */
function normalise(doc: PlaybookBody & { readonly key?: string }): PlaybookBody {
  const { key: _key, ...body } = doc;
  return {
    ...body,
    enabled: body.enabled ?? true,
    reentry: body.reentry ?? 'never',
    exit_on: body.exit_on ?? [],
  };
}

export async function createPlaybook(
  ctx: PlaybooksContext,
  workspaceId: string,
  input: PlaybookBody & { readonly key: string },
): Promise<PlaybookRow> {
  const document = normalise(input);
  return ctx.db.transaction().execute(async (trx) => {
    await checkDocument(ctx, trx, workspaceId, document);
    const at = ctx.clock.now();
    const inserted = await insertPlaybook(
      trx,
      { workspaceId, id: uuidv7(at), key: input.key, document, at },
      'ignore',
    );
    if (!inserted)
      throw conflict(
        'playbook_exists',
        `A playbook with key "${input.key}" already exists; PUT makes a new version.`,
      );
    return (await findPlaybook(trx, workspaceId, input.key))!;
  });
}

/** Saves a new version; enrollments already running keep theirs. */
export async function updatePlaybook(
  ctx: PlaybooksContext,
  workspaceId: string,
  key: string,
  input: PlaybookBody & { readonly key?: string },
): Promise<PlaybookRow> {
  if (input.key !== undefined && input.key !== key) {
    rejectIfAny('The playbook', [
      { path: '/body/key', message: `must be "${key}" (the key in the path) or left out` },
    ]);
  }
  const document = normalise(input);
  return ctx.db.transaction().execute(async (trx) => {
    const current = await findPlaybook(trx, workspaceId, key);
    if (!current) throw notFound('Playbook');
    await checkDocument(ctx, trx, workspaceId, document);
    const version = await addPlaybookVersion(trx, workspaceId, current.id, document, ctx.clock.now());
    return (await findPlaybook(trx, workspaceId, key, version))!;
  });
}

export async function getPlaybook(
  ctx: PlaybooksContext,
  workspaceId: string,
  key: string,
  version?: number,
): Promise<PlaybookRow> {
  const row = await findPlaybook(ctx.db, workspaceId, key, version);
  if (!row) throw notFound(version === undefined ? 'Playbook' : `Version ${version} of playbook "${key}"`);
  return row;
}

export async function listPlaybooks(
  ctx: PlaybooksContext,
  workspaceId: string,
  query: { limit: number; cursor?: string },
) {
  const after = decodeCursor(query.cursor, ['key']);
  const rows = await listPlaybookRows(ctx.db, workspaceId, { limit: query.limit + 1, afterKey: after?.key });
  return page(rows, query.limit, (row) => ({ key: row.key }));
}

/**
 * Deletes a playbook: no new enrollments, and the running ones end now with their pending
 * touchpoints cancelled (to let them finish instead, save it with `enabled: false`).
 */
export async function deletePlaybook(ctx: PlaybooksContext, workspaceId: string, key: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await findPlaybook(trx, workspaceId, key);
    if (!current) throw notFound('Playbook');
    const at = ctx.clock.now();
    await softDeletePlaybook(trx, workspaceId, current.id, at);
    await ctx.endEnrollments(trx, workspaceId, key, at);
  });
}

export interface PreviewInput {
  readonly customer: object;
  readonly events: readonly {
    readonly type: string;
    readonly occurred_at: string;
    readonly properties?: object;
  }[];
}

/**
 * What the playbook would plan if each event arrived when it occurred — past or future —
 * for a hypothetical customer. Runs the engine in memory; stores nothing.
 */
export async function previewPlaybook(
  ctx: PlaybooksContext,
  workspaceId: string,
  key: string,
  input: PreviewInput,
) {
  const row = await getPlaybook(ctx, workspaceId, key);
  const settings = await getSettings(ctx, workspaceId);
  const playbook = { ...toEnginePlaybook(row.key, row.version, row.document), enabled: true };
  const customer: Record<string, unknown> = { attributes: {}, ...input.customer };
  const zone = typeof customer.timezone === 'string' ? customer.timezone : settings.timezone;
  const country = typeof customer.country === 'string' ? customer.country : settings.country;
  const simulation = new Simulation([playbook], customer);
  const events = [...input.events].sort((a, b) => Date.parse(a.occurred_at) - Date.parse(b.occurred_at));
  events.forEach((event, i) => {
    const occurredAt = new Date(event.occurred_at);
    const plan: PlanSettings = {
      now: occurredAt,
      calendar: { zone, country, holidays: nationalHolidays },
      lateGraceMs: Duration.fromISO(settings.late_grace).as('milliseconds'),
      quietHours: settings.quiet_hours,
    };
    const properties = (event.properties ?? {}) as Record<string, unknown>;
    simulation.apply({ id: `preview-${i}`, type: event.type, occurredAt, properties }, plan);
  });
  return {
    touchpoints: simulation.touchpoints.map((tp) => ({
      step: tp.step,
      channel: tp.channel,
      template: tp.template,
      due_at: tp.dueAt.toISOString(),
      status: tp.status,
      ...(tp.skipReason ? { reason: tp.skipReason } : {}),
    })),
    exited: simulation.exits.map((exit) => ({
      playbook: exit.playbookKey,
      reason: exit.reason,
      at: exit.at.toISOString(),
    })),
  };
}
