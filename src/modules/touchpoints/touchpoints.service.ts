import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { AppError, badRequest, notFound } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { CANCELLABLE_STATUSES } from '../enrollments/enrollments.repository.js';
import {
  cancelTouchpoint as cancelTouchpointRow,
  type DueKey,
  findTouchpoint,
  listTouchpoints as listTouchpointRows,
  type TouchpointQuery,
  type TouchpointRow,
} from './touchpoints.repository.js';

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

/**
 * Cancels a touchpoint that has not started going out (scheduled or queued): the pump and the
 * dispatcher re-check the status, so a queued job finds it cancelled and does nothing.
 */
export async function cancelTouchpoint(ctx: TouchpointsContext, workspaceId: string, id: string) {
  const now = ctx.clock.now();
  const cancelled = await cancelTouchpointRow(ctx.db, workspaceId, id, CANCELLABLE_STATUSES, 'manual', now);
  const row = await getTouchpoint(ctx, workspaceId, id);
  if (!cancelled) {
    throw new AppError(
      'not_cancellable',
      409,
      `The touchpoint is ${row.status}; only scheduled or queued touchpoints can be cancelled.`,
    );
  }
  return row;
}
