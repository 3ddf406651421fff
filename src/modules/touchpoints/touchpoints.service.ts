import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { AppError, badRequest, conflict, notFound, unprocessable } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { CANCELLABLE_STATUSES } from '../enrollments/enrollments.repository.js';
import { emitEvent, touchpointEventData } from '../outbox/outbox.js';
import {
  cancelTouchpoint as cancelTouchpointRow,
  type DueKey,
  findTouchpoint,
  listTouchpoints as listTouchpointRows,
  recordTaskOutcome as recordTaskOutcomeRow,
  type TouchpointQuery,
  type TouchpointRow,
  touchpointAttempts,
} from './touchpoints.repository.js';
import type { TaskOutcome } from './touchpoints.schemas.js';

export interface TouchpointsContext {
  readonly db: Database;
  readonly clock: Clock;
}

export interface TouchpointListInput {
  readonly limit: number;
  readonly cursor?: string;
  readonly customer_id?: string;
  readonly status?: string;
  readonly channel?: string;
  readonly playbook?: string;
  readonly from?: string;
  readonly to?: string;
}

const invalidCursor = () =>
  badRequest('invalid_cursor', 'cursor is not one this API returned', [
    { path: '/querystring/cursor', message: 'not a valid cursor' },
  ]);

/** The (due_at, id) key of a list cursor; 400 when the cursor is not ours. */
export function decodeDueCursor(cursor: string | undefined): DueKey | undefined {
  const key = decodeCursor(cursor, ['due_at', 'id']);
  if (!key) return undefined;
  const dueAt = new Date(key.due_at);
  if (Number.isNaN(dueAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(key.id)) throw invalidCursor();
  return { dueAt, id: key.id };
}

/** Pages rows fetched with `limit + 1` into `{ data, next_cursor }` keyed by (due_at, id). */
export function duePage(rows: readonly TouchpointRow[], limit: number) {
  return page(rows, limit, (row) => ({ due_at: row.dueAt.toISOString(), id: row.id }));
}

/** Touchpoints of the workspace by the filters, oldest due first (due_at, then id). */
export async function listTouchpoints(
  ctx: TouchpointsContext,
  workspaceId: string,
  input: TouchpointListInput,
) {
  const from = input.from === undefined ? undefined : new Date(input.from);
  const to = input.to === undefined ? undefined : new Date(input.to);
  if (from && to && to <= from) {
    throw badRequest('invalid_window', '`to` must be after `from`', [
      { path: '/querystring/to', message: 'must be after from' },
    ]);
  }
  const query: TouchpointQuery = {
    externalCustomerId: input.customer_id,
    status: input.status,
    channel: input.channel,
    playbook: input.playbook,
    from,
    to,
    after: decodeDueCursor(input.cursor),
    limit: input.limit + 1,
  };
  return duePage(await listTouchpointRows(ctx.db, workspaceId, query), input.limit);
}

/** A customer's touchpoints (by internal id), oldest due first, cursor-paginated. */
export async function listCustomerTouchpoints(
  ctx: TouchpointsContext,
  workspaceId: string,
  customerId: string,
  input: { readonly limit: number; readonly cursor?: string },
) {
  const after = decodeDueCursor(input.cursor);
  const rows = await listTouchpointRows(ctx.db, workspaceId, { customerId, after, limit: input.limit + 1 });
  return duePage(rows, input.limit);
}

/** One touchpoint of the workspace; 404 for unknown ids and other workspaces' ids. */
export async function getTouchpoint(ctx: TouchpointsContext, workspaceId: string, id: string) {
  const row = await findTouchpoint(ctx.db, workspaceId, id);
  if (!row) throw notFound('Touchpoint');
  return row;
}

/** One touchpoint with its delivery attempts, oldest first. */
export async function getTouchpointDetail(ctx: TouchpointsContext, workspaceId: string, id: string) {
  const row = await getTouchpoint(ctx, workspaceId, id);
  return { row, attempts: await touchpointAttempts(ctx.db, workspaceId, id) };
}

export interface TaskOutcomeInput {
  readonly outcome: TaskOutcome;
  readonly notes?: string;
  readonly reschedule_at?: string;
}

/**
 * Records what a person did with a pending task. Every outcome but `rescheduled` completes it
 * (completed_at, outcome, notes) and emits `task.completed` in the same transaction;
 * `rescheduled` puts it back to `scheduled` at `reschedule_at`, where the pump picks it up
 * again and it is re-rendered. 422 for a bad combination, 409 when it is not a pending task.
 */
export async function recordTaskOutcome(
  ctx: TouchpointsContext,
  workspaceId: string,
  id: string,
  input: TaskOutcomeInput,
) {
  const now = ctx.clock.now();
  const rescheduling = input.outcome === 'rescheduled';
  const at = input.reschedule_at === undefined ? undefined : new Date(input.reschedule_at);
  if (rescheduling && at === undefined) {
    throw unprocessable('`rescheduled` needs `reschedule_at`: when to do the task again.', [
      { path: '/body/reschedule_at', message: 'required when outcome is rescheduled' },
    ]);
  }
  if (!rescheduling && at !== undefined) {
    throw unprocessable('`reschedule_at` goes only with the `rescheduled` outcome.', [
      { path: '/body/reschedule_at', message: 'only allowed when outcome is rescheduled' },
    ]);
  }
  if (at !== undefined && at <= now) {
    throw unprocessable('`reschedule_at` must be in the future.', [
      { path: '/body/reschedule_at', message: 'must be in the future' },
    ]);
  }
  await ctx.db.transaction().execute(async (trx) => {
    const recorded = await recordTaskOutcomeRow(
      trx,
      workspaceId,
      id,
      {
        status: rescheduling ? 'scheduled' : 'completed',
        outcome: input.outcome,
        notes: input.notes ?? null,
        completedAt: rescheduling ? null : now,
        ...(at ? { dueAt: at } : {}),
      },
      now,
    );
    const row = await findTouchpoint(trx, workspaceId, id);
    if (!row) throw notFound('Touchpoint');
    if (!recorded) {
      throw conflict(
        'not_pending_task',
        `The touchpoint is a ${row.channel} that is ${row.status}; only a pending task takes an outcome.`,
      );
    }
    if (!rescheduling) {
      await emitEvent(trx, {
        workspaceId,
        type: 'task.completed',
        at: now,
        data: touchpointEventData(row, row.content, {
          outcome: input.outcome,
          notes: input.notes ?? null,
          completed_at: now.toISOString(),
        }),
      });
    }
  });
  return getTouchpointDetail(ctx, workspaceId, id);
}

/**
 * Cancels a touchpoint that has not started going out (scheduled or queued), or a task nobody has
 * done yet (pending): the dispatcher re-checks the status, so a queued job finds it cancelled.
 */
export async function cancelTouchpoint(ctx: TouchpointsContext, workspaceId: string, id: string) {
  const now = ctx.clock.now();
  const cancelled = await cancelTouchpointRow(ctx.db, workspaceId, id, CANCELLABLE_STATUSES, 'manual', now);
  const row = await getTouchpoint(ctx, workspaceId, id);
  if (!cancelled) {
    throw new AppError(
      'not_cancellable',
      409,
      `The touchpoint is ${row.status}; only scheduled or queued touchpoints and pending tasks can be cancelled.`,
    );
  }
  return row;
}
