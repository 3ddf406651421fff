import { sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import {
  emitEvent,
  emitEvents,
  type TouchpointEventSource,
  touchpointEventData,
  touchpointEventSource,
} from '../outbox/outbox.js';
import { statusIn } from '../touchpoints/status-guard.js';
import { eventDeliveryTally } from './deliveries.repository.js';

/**
 * A webhook touchpoint is handed to the outbox as a `touchpoint.due` event whose id is the
 * touchpoint id, while the touchpoint waits in `sending`. These settle it from its deliveries:
 * `sent` at the first success, `failed` once none is left going and none succeeded. Every
 * update is guarded by `status = 'sending'`, so a touchpoint settles once.
 */
export const TOUCHPOINT_DUE = 'touchpoint.due';

export type TouchpointFailure = 'no_endpoint' | 'delivery_failed' | 'endpoint_disabled';

/** Counts one HTTP attempt on the touchpoint and logs it in touchpoint_attempts. */
export async function recordTouchpointAttempt(
  trx: Transaction<DB>,
  workspaceId: string,
  touchpointId: string,
  attempt: {
    readonly at: Date;
    readonly succeeded: boolean;
    readonly error: string | null;
    readonly deliveryId: string;
  },
): Promise<void> {
  // Locking the touchpoint here also orders concurrent deliveries of one event, so the tally
  // that decides "all failed" sees the others' outcomes (see settleIfAllFailed).
  const row = await trx
    .updateTable('touchpoints')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), updatedAt: attempt.at }))
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', touchpointId)
    .where(statusIn(['sending']))
    .returning('attempts')
    .executeTakeFirst();
  if (!row) return;
  await trx
    .insertInto('touchpointAttempts')
    .values({
      workspaceId,
      touchpointId,
      attempt: row.attempts,
      at: attempt.at,
      status: attempt.succeeded ? 'succeeded' : 'failed',
      error: attempt.error,
      providerMessageId: attempt.deliveryId,
    })
    .onConflict((oc) => oc.columns(['workspaceId', 'touchpointId', 'attempt']).doNothing())
    .execute();
}

/** A successful attempt of a webhook touchpoint's delivery. */
export interface TouchpointSend {
  readonly touchpointId: string;
  readonly at: Date;
  readonly deliveryId: string;
}

/**
 * Successful attempts of webhook touchpoints' deliveries, in one statement whatever their
 * number: each attempt counted and logged, the touchpoint settled `sent`, and what
 * `touchpoint.sent` carries read back; then the events, in one more. Nothing for a touchpoint no
 * longer sending (another delivery settled it). Touchpoints are taken in id order, so that
 * groups recording at once lock them in the same order.
 */
export async function recordTouchpointsSent(
  trx: Transaction<DB>,
  workspaceId: string,
  sends: readonly TouchpointSend[],
): Promise<void> {
  if (sends.length === 0) return;
  const sorted = [...sends].sort((a, b) =>
    a.touchpointId < b.touchpointId ? -1 : a.touchpointId > b.touchpointId ? 1 : 0,
  );
  const column = <T>(value: (send: TouchpointSend) => T) => sorted.map(value);
  const result = await sql<TouchpointEventSource & { content: unknown; at: Date }>`
    WITH v AS (
      SELECT * FROM unnest(${column((s) => s.touchpointId)}::uuid[], ${column((s) => s.at)}::timestamptz[],
                           ${column((s) => s.deliveryId)}::text[]) WITH ORDINALITY AS v(id, at, delivery_id, ord)
    ), tp AS (
      UPDATE touchpoints t
      SET attempts = t.attempts + 1, status = 'sent', sent_at = v.at, delivered_at = v.at,
          status_reason = NULL, updated_at = v.at
      FROM v
      WHERE t.workspace_id = ${workspaceId} AND t.id = v.id AND (t.status = 'sending') IS TRUE
      RETURNING t.workspace_id, t.id, t.customer_id, t.attempts, t.playbook_key, t.step_key, t.channel,
                t.due_at, t.status, t.content, v.at, v.delivery_id, v.ord
    ), logged AS (
      INSERT INTO touchpoint_attempts (workspace_id, touchpoint_id, attempt, at, status, error, provider_message_id)
      SELECT workspace_id, id, attempts, at, 'succeeded', NULL, delivery_id FROM tp
      ON CONFLICT (workspace_id, touchpoint_id, attempt) DO NOTHING
    )
    SELECT tp.id, tp.playbook_key AS "playbookKey", tp.step_key AS "stepKey", tp.channel,
           tp.due_at AS "dueAt", tp.status, c.external_id AS "customerExternalId",
           c.name AS "customerName", c.email AS "customerEmail", c.phone AS "customerPhone",
           c.segment AS "customerSegment", tp.content, tp.at
    FROM tp JOIN customers c ON c.workspace_id = tp.workspace_id AND c.id = tp.customer_id
    ORDER BY tp.ord`.execute(trx);
  await emitEvents(
    trx,
    result.rows.map((source) => ({
      workspaceId,
      type: 'touchpoint.sent' as const,
      at: source.at,
      data: touchpointEventData(source, source.content),
    })),
  );
}

/** Settles the touchpoint `failed` with a reason and emits `touchpoint.failed`. */
export async function settleTouchpointFailed(
  trx: Transaction<DB>,
  workspaceId: string,
  touchpointId: string,
  reason: TouchpointFailure,
  at: Date,
): Promise<void> {
  const settled = await trx
    .updateTable('touchpoints')
    .set({ status: 'failed', statusReason: reason, updatedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', touchpointId)
    .where(statusIn(['sending']))
    .returning('id')
    .executeTakeFirst();
  if (!settled) return;
  const source = await touchpointEventSource(trx, workspaceId, touchpointId);
  if (source) await emitTouchpointEvent(trx, workspaceId, source, 'touchpoint.failed', at, { reason });
}

/**
 * Fails the touchpoint when no delivery of its event is still going and none succeeded.
 * Call after the caller's own delivery update, in the same transaction.
 */
export async function settleIfAllFailed(
  trx: Transaction<DB>,
  workspaceId: string,
  touchpointId: string,
  reason: TouchpointFailure,
  at: Date,
): Promise<void> {
  // The lock first: the tally then reads after any concurrent delivery of the same event committed.
  const locked = await trx
    .selectFrom('touchpoints')
    .select('id')
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', touchpointId)
    .where(statusIn(['sending']))
    .forUpdate()
    .executeTakeFirst();
  if (!locked) return;
  const tally = await eventDeliveryTally(trx, workspaceId, touchpointId);
  if (tally.open === 0 && tally.succeeded === 0) {
    await settleTouchpointFailed(trx, workspaceId, touchpointId, reason, at);
  }
}

async function emitTouchpointEvent(
  trx: Transaction<DB>,
  workspaceId: string,
  source: TouchpointEventSource & { readonly content: unknown },
  type: 'touchpoint.sent' | 'touchpoint.failed',
  at: Date,
  extra: Readonly<Record<string, unknown>> = {},
): Promise<void> {
  await emitEvent(trx, { workspaceId, type, at, data: touchpointEventData(source, source.content, extra) });
}
