import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Enrollment, ExitRule, Trigger } from '../../rules/types.js';

type Db = Kysely<DB> | Transaction<DB>;

/** The latest usage ratio per customer and metric, leaving out the given events. */
export async function latestUsage(
  db: Db,
  workspaceId: string,
  customerIds: readonly string[],
  excludeEventIds: readonly string[],
): Promise<Map<string, Record<string, { ratio: number; at: Date }>>> {
  const usage = new Map<string, Record<string, { ratio: number; at: Date }>>();
  if (customerIds.length === 0) return usage;
  let query = db
    .selectFrom('events')
    .distinctOn(['customerId', sql`properties ->> 'metric'`])
    .select([
      'customerId',
      'occurredAt',
      sql<string>`properties ->> 'metric'`.as('metric'),
      sql<number>`(properties ->> 'value')::float8 / nullif((properties ->> 'limit')::float8, 0)`.as('ratio'),
    ])
    .where('workspaceId', '=', workspaceId)
    .where('customerId', 'in', customerIds)
    .where('type', '=', 'usage');
  if (excludeEventIds.length > 0) query = query.where('id', 'not in', excludeEventIds);
  const rows = await query
    .orderBy('customerId')
    .orderBy(sql`properties ->> 'metric'`)
    .orderBy('occurredAt', 'desc')
    .execute();
  for (const row of rows) {
    if (row.ratio === null || !Number.isFinite(row.ratio)) continue;
    const byMetric = usage.get(row.customerId) ?? {};
    byMetric[row.metric] = { ratio: row.ratio, at: row.occurredAt };
    usage.set(row.customerId, byMetric);
  }
  return usage;
}

export interface NewEnrollment {
  readonly id: string;
  readonly customerId: string;
  readonly playbookId: string;
  readonly playbookKey: string;
  readonly playbookVersion: number;
  readonly triggerKind: Trigger['kind'];
  readonly triggerEventId: string | null;
  readonly triggerAt: Date;
  readonly triggerKey: string | null;
  readonly status: Enrollment['status'];
  readonly lastDueAt: Date | null;
  readonly exitReason: string | null;
  readonly endedAt: Date | null;
}

export interface NewTouchpoint {
  readonly id: string;
  readonly customerId: string;
  readonly enrollmentId: string;
  readonly playbookKey: string;
  readonly playbookVersion: number;
  readonly stepKey: string;
  readonly channel: string;
  readonly templateKey: string;
  readonly taskKind: string | null;
  readonly endpointId: string | null;
  readonly dueAt: Date;
  readonly status: string;
  readonly statusReason: string | null;
}

/** Exit rules of playbook versions (immutable), by `playbookId:version`. */
export async function versionExitRules(
  db: Db,
  workspaceId: string,
  versions: readonly { readonly playbookId: string; readonly version: number }[],
): Promise<Map<string, ExitRule[]>> {
  const rules = new Map<string, ExitRule[]>();
  if (versions.length === 0) return rules;
  const rows = await db
    .selectFrom('playbookVersions')
    .select(['playbookId', 'version', sql<ExitRule[] | null>`document -> 'exit_on'`.as('exitOn')])
    .where('workspaceId', '=', workspaceId)
    .where((eb) =>
      eb.or(
        versions.map((v) => eb.and([eb('playbookId', '=', v.playbookId), eb('version', '=', v.version)])),
      ),
    )
    .execute();
  for (const row of rows) rules.set(`${row.playbookId}:${row.version}`, row.exitOn ?? []);
  return rules;
}

/** Everything a plan writes, each kind set-wise (see `apply_plan()`). */
export interface PlanWrites {
  /** Stored enrollments an event ended, with the reason. */
  readonly exits: readonly { readonly id: string; readonly reason: string }[];
  /** Stored enrollments whose pending trigger moved: their old plan goes, the new one is in `touchpoints`. */
  readonly moves: readonly {
    readonly id: string;
    readonly playbookId: string;
    readonly playbookVersion: number;
    readonly triggerAt: Date;
    readonly triggerKey: string | null;
    readonly lastDueAt: Date | null;
  }[];
  readonly enrollments: readonly NewEnrollment[];
  readonly touchpoints: readonly NewTouchpoint[];
  /** Customers' newly announced lifecycle stages. */
  readonly stages: readonly { readonly customerId: string; readonly stage: string }[];
  /** Outgoing events, written to the outbox in the same transaction. */
  readonly outbox: readonly { readonly id: string; readonly type: string; readonly data: unknown }[];
}

/** Writes a whole plan in one round trip, one statement per kind of write, whatever the batch size. */
export async function applyPlan(db: Db, workspaceId: string, now: Date, plan: PlanWrites): Promise<void> {
  const nothing =
    plan.exits.length + plan.moves.length + plan.enrollments.length + plan.touchpoints.length === 0 &&
    plan.stages.length + plan.outbox.length === 0;
  if (nothing) return;
  const payload = JSON.stringify({
    exits: plan.exits,
    moves: plan.moves.map((m) => ({
      id: m.id,
      playbook_id: m.playbookId,
      playbook_version: m.playbookVersion,
      trigger_at: m.triggerAt,
      trigger_key: m.triggerKey,
      last_due_at: m.lastDueAt,
    })),
    enrollments: plan.enrollments.map((e) => ({
      id: e.id,
      customer_id: e.customerId,
      playbook_id: e.playbookId,
      playbook_key: e.playbookKey,
      playbook_version: e.playbookVersion,
      trigger_kind: e.triggerKind,
      trigger_event_id: e.triggerEventId,
      trigger_at: e.triggerAt,
      trigger_key: e.triggerKey,
      status: e.status,
      last_due_at: e.lastDueAt,
      exit_reason: e.exitReason,
      ended_at: e.endedAt,
    })),
    touchpoints: plan.touchpoints.map((t) => ({
      id: t.id,
      customer_id: t.customerId,
      enrollment_id: t.enrollmentId,
      playbook_key: t.playbookKey,
      playbook_version: t.playbookVersion,
      step_key: t.stepKey,
      channel: t.channel,
      template_key: t.templateKey,
      task_kind: t.taskKind,
      endpoint_id: t.endpointId,
      due_at: t.dueAt,
      status: t.status,
      status_reason: t.statusReason,
    })),
    stages: plan.stages.map((s) => ({ customer_id: s.customerId, stage: s.stage })),
    outbox: plan.outbox,
  });
  await sql`SELECT apply_plan(${workspaceId}, ${now}, ${payload}::jsonb)`.execute(db);
}

/**
 * Statuses a touchpoint can still be cancelled from: nothing has gone out, no task was done yet.
 * apply_plan() (migrations/20261204020000_…) cancels exits' touchpoints from the same list.
 */
export const CANCELLABLE_STATUSES = ['scheduled', 'queued', 'pending'] as const;

/** Cancels what the enrollments still had pending, with a reason. */
export async function cancelPendingTouchpoints(
  db: Db,
  workspaceId: string,
  enrollmentIds: readonly string[],
  reason: string,
  at: Date,
): Promise<void> {
  if (enrollmentIds.length === 0) return;
  await db
    .updateTable('touchpoints')
    .set({ status: 'cancelled', statusReason: reason, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('enrollmentId', 'in', enrollmentIds)
    .where('status', 'in', CANCELLABLE_STATUSES)
    .execute();
}

/**
 * Ends every active enrollment of a playbook (it was deleted) or of a customer (erasure),
 * cancelling what they had pending.
 */
export async function exitEnrollmentsOf(
  db: Db,
  workspaceId: string,
  of: { readonly playbookKey: string } | { readonly customerId: string },
  reason: string,
  at: Date,
): Promise<void> {
  let update = db
    .updateTable('enrollments')
    .set({ status: 'exited', exitReason: reason, endedAt: at, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('status', '=', 'active');
  update =
    'playbookKey' in of
      ? update.where('playbookKey', '=', of.playbookKey)
      : update.where('customerId', '=', of.customerId);
  const ended = await update.returning('id').execute();
  await cancelPendingTouchpoints(
    db,
    workspaceId,
    ended.map((row) => row.id),
    `exited:${reason}`,
    at,
  );
}
