import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Enrollment, ExitRule, Trigger } from '../../rules/types.js';

type Db = Kysely<DB> | Transaction<DB>;

/** A stored enrollment with its customer, and its version's exit rules. */
export interface StoredEnrollment extends Enrollment {
  readonly customerId: string;
}

/** Every enrollment of these customers (history counts for re-entry), with its version's exit rules. */
export async function enrollmentsOf(
  db: Db,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<StoredEnrollment[]> {
  if (customerIds.length === 0) return [];
  const rows = await db
    .selectFrom('enrollments as e')
    .innerJoin('playbookVersions as v', (join) =>
      join
        .onRef('v.workspaceId', '=', 'e.workspaceId')
        .onRef('v.playbookId', '=', 'e.playbookId')
        .onRef('v.version', '=', 'e.playbookVersion'),
    )
    .select([
      'e.id',
      'e.customerId',
      'e.playbookKey',
      'e.playbookVersion',
      'e.status',
      'e.triggerKind',
      'e.triggerAt',
      'e.triggerKey',
      'e.lastDueAt',
      sql<ExitRule[] | null>`v.document -> 'exit_on'`.as('exitOn'),
    ])
    .where('e.workspaceId', '=', workspaceId)
    .where('e.customerId', 'in', customerIds)
    .orderBy('e.triggerAt')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    customerId: row.customerId,
    playbookKey: row.playbookKey,
    version: row.playbookVersion,
    status: row.status as Enrollment['status'],
    triggerKind: row.triggerKind as Trigger['kind'],
    triggerAt: row.triggerAt,
    triggerKey: row.triggerKey,
    lastDueAt: row.lastDueAt,
    exitOn: row.exitOn ?? [],
  }));
}

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

export async function insertEnrollments(
  db: Db,
  workspaceId: string,
  rows: readonly NewEnrollment[],
  at: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('enrollments')
    .values(rows.map((row) => ({ ...row, workspaceId, createdAt: at, updatedAt: at })))
    .execute();
}

export async function insertTouchpoints(
  db: Db,
  workspaceId: string,
  rows: readonly NewTouchpoint[],
  at: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('touchpoints')
    .values(rows.map((row) => ({ ...row, workspaceId, createdAt: at, updatedAt: at })))
    .execute();
}

/** Statuses a touchpoint can still be cancelled from: nothing has gone out, no task was done yet. */
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

/** Ends an enrollment now and cancels its pending touchpoints. */
export async function exitEnrollment(
  db: Db,
  workspaceId: string,
  id: string,
  reason: string,
  at: Date,
): Promise<void> {
  await db
    .updateTable('enrollments')
    .set({ status: 'exited', exitReason: reason, endedAt: at, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('status', '=', 'active')
    .execute();
  await cancelPendingTouchpoints(db, workspaceId, [id], `exited:${reason}`, at);
}

/**
 * Moves a pending trigger (a new idle period, a new date) and clears its old plan. Touchpoints
 * still only `scheduled` never left Postgres, so they are deleted rather than kept as
 * cancelled rows — an idle timer moves on every activity event, and would otherwise leave
 * two rows behind each time. One already handed to the queue is cancelled instead.
 */
export async function moveEnrollment(
  db: Db,
  workspaceId: string,
  change: {
    readonly id: string;
    readonly playbookId: string;
    readonly playbookVersion: number;
    readonly triggerAt: Date;
    readonly triggerKey: string | null;
    readonly lastDueAt: Date | null;
  },
  at: Date,
): Promise<void> {
  await db
    .deleteFrom('touchpoints')
    .where('workspaceId', '=', workspaceId)
    .where('enrollmentId', '=', change.id)
    .where('status', '=', 'scheduled')
    .execute();
  await cancelPendingTouchpoints(db, workspaceId, [change.id], 'rescheduled', at);
  await db
    .updateTable('enrollments')
    .set({
      playbookId: change.playbookId,
      playbookVersion: change.playbookVersion,
      triggerAt: change.triggerAt,
      triggerKey: change.triggerKey,
      lastDueAt: change.lastDueAt,
      updatedAt: at,
    })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', change.id)
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
