import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { statusIn } from './status-guard.js';

type Db = Kysely<DB> | Transaction<DB>;

/** The sort key of the touchpoint lists: due_at, then id. */
export interface DueKey {
  readonly dueAt: Date;
  readonly id: string;
}

export interface TouchpointQuery {
  /** The shop's customer id. */
  readonly externalCustomerId?: string;
  /** The internal customer id. */
  readonly customerId?: string;
  readonly status?: string;
  readonly statuses?: readonly string[];
  readonly excludeStatuses?: readonly string[];
  readonly channel?: string;
  readonly playbook?: string;
  /** due_at ≥ from */
  readonly from?: Date;
  /** due_at < to */
  readonly to?: Date;
  readonly after?: DueKey;
  readonly limit: number;
}

function touchpointsOf(db: Db, workspaceId: string) {
  return db
    .selectFrom('touchpoints as t')
    .innerJoin('customers as c', (join) =>
      join.onRef('c.workspaceId', '=', 't.workspaceId').onRef('c.id', '=', 't.customerId'),
    )
    .selectAll('t')
    .select([
      'c.externalId as customerExternalId',
      'c.name as customerName',
      'c.email as customerEmail',
      'c.phone as customerPhone',
      'c.segment as customerSegment',
      'c.erasedAt as customerErasedAt',
    ])
    .where('t.workspaceId', '=', workspaceId);
}

export type TouchpointRow = Awaited<ReturnType<ReturnType<typeof touchpointsOf>['executeTakeFirstOrThrow']>>;

/** Touchpoints matching the filters, oldest due first (due_at, then id), after the cursor key. */
export async function listTouchpoints(
  db: Db,
  workspaceId: string,
  q: TouchpointQuery,
): Promise<TouchpointRow[]> {
  let query = touchpointsOf(db, workspaceId);
  if (q.externalCustomerId !== undefined) query = query.where('c.externalId', '=', q.externalCustomerId);
  if (q.customerId !== undefined) query = query.where('t.customerId', '=', q.customerId);
  if (q.status !== undefined) query = query.where('t.status', '=', q.status);
  if (q.statuses !== undefined) query = query.where('t.status', 'in', q.statuses);
  if (q.excludeStatuses !== undefined) query = query.where('t.status', 'not in', q.excludeStatuses);
  if (q.channel !== undefined) query = query.where('t.channel', '=', q.channel);
  if (q.playbook !== undefined) query = query.where('t.playbookKey', '=', q.playbook);
  if (q.from !== undefined) query = query.where('t.dueAt', '>=', q.from);
  if (q.to !== undefined) query = query.where('t.dueAt', '<', q.to);
  const after = q.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('t.dueAt', '>', after.dueAt),
        eb.and([eb('t.dueAt', '=', after.dueAt), eb('t.id', '>', after.id)]),
      ]),
    );
  }
  return query.orderBy('t.dueAt', 'asc').orderBy('t.id', 'asc').limit(q.limit).execute();
}

/** One touchpoint of the workspace with its customer. */
export async function findTouchpoint(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<TouchpointRow | undefined> {
  return touchpointsOf(db, workspaceId).where('t.id', '=', id).executeTakeFirst();
}

/**
 * Cancels the touchpoint if its status is one of `from`; false when it is not (or does not
 * exist). The status check is in the UPDATE, so a dispatcher picking it up concurrently wins
 * or loses cleanly.
 */
export async function cancelTouchpoint(
  db: Db,
  workspaceId: string,
  id: string,
  from: readonly string[],
  reason: string,
  at: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('touchpoints')
    .set({ status: 'cancelled', statusReason: reason, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where(statusIn(from))
    .executeTakeFirst();
  return (result.numUpdatedRows ?? 0n) > 0n;
}

/** The timeline's sort key: newest first by (at, kind, id). */
export interface TimelineKey {
  readonly at: Date;
  readonly kind: string;
  readonly id: string;
}

/**
 * A customer's touchpoints for the timeline, newest due first, strictly before `before` in
 * the (at, kind, id) order the timeline merges events and touchpoints by.
 */
export async function customerTimelineTouchpoints(
  db: Db,
  workspaceId: string,
  customerId: string,
  options: { readonly limit: number; readonly before?: TimelineKey },
): Promise<TouchpointRow[]> {
  let query = touchpointsOf(db, workspaceId).where('t.customerId', '=', customerId);
  const before = options.before;
  if (before) {
    // Within this source kind is constant, so the tie on `at` is decided by kind, then id.
    if (before.kind > 'touchpoint') query = query.where('t.dueAt', '<=', before.at);
    else if (before.kind < 'touchpoint') query = query.where('t.dueAt', '<', before.at);
    else {
      query = query.where((eb) =>
        eb.or([
          eb('t.dueAt', '<', before.at),
          eb.and([eb('t.dueAt', '=', before.at), eb('t.id', '<', before.id)]),
        ]),
      );
    }
  }
  return query.orderBy('t.dueAt', 'desc').orderBy('t.id', 'desc').limit(options.limit).execute();
}

/** A touchpoint's delivery attempts, oldest first. */
export async function touchpointAttempts(db: Db, workspaceId: string, touchpointId: string) {
  return db
    .selectFrom('touchpointAttempts')
    .select(['attempt', 'at', 'status', 'error', 'providerMessageId'])
    .where('workspaceId', '=', workspaceId)
    .where('touchpointId', '=', touchpointId)
    .orderBy('attempt')
    .execute();
}

export type AttemptRow = Awaited<ReturnType<typeof touchpointAttempts>>[number];

/** What a person records on a pending task. */
export interface TaskOutcomeChange {
  readonly status: 'completed' | 'scheduled';
  readonly outcome: string;
  readonly notes: string | null;
  readonly completedAt: Date | null;
  /** For `rescheduled`: the new due time. */
  readonly dueAt?: Date;
}

/**
 * Records a task's outcome if it is still a pending task; false when it is not (or does not
 * exist). The status check is in the UPDATE, so two people recording at once cannot both win.
 */
export async function recordTaskOutcome(
  db: Db,
  workspaceId: string,
  id: string,
  change: TaskOutcomeChange,
  at: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('touchpoints')
    .set({
      status: change.status,
      statusReason: change.status === 'scheduled' ? 'rescheduled' : null,
      outcome: change.outcome,
      outcomeNotes: change.notes,
      completedAt: change.completedAt,
      // A converted task is the touchpoint's conversion, for the touchpoint metrics.
      ...(change.outcome === 'converted' ? { convertedAt: change.completedAt } : {}),
      ...(change.dueAt ? { dueAt: change.dueAt, queuedAt: null } : {}),
      updatedAt: at,
    })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('channel', '=', 'task')
    .where(statusIn(['pending']))
    .executeTakeFirst();
  return (result.numUpdatedRows ?? 0n) > 0n;
}
