import { sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import {
  emitEvent,
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

/**
 * A successful attempt of a webhook touchpoint's delivery, in one statement: the attempt counted
 * and logged, the touchpoint settled `sent`, and what `touchpoint.sent` carries read back; then
 * the event. Nothing when the touchpoint is no longer sending (another delivery settled it).
 */
export async function recordTouchpointSent(
  trx: Transaction<DB>,
  workspaceId: string,
  touchpointId: string,
  attempt: { readonly at: Date; readonly deliveryId: string },
): Promise<void> {
  const { at, deliveryId } = attempt;
  const result = await sql<TouchpointEventSource & { content: unknown }>`
    WITH tp AS (
      UPDATE touchpoints
      SET attempts = attempts + 1, status = 'sent', sent_at = ${at}, delivered_at = ${at},
          status_reason = NULL, updated_at = ${at}
      WHERE workspace_id = ${workspaceId} AND id = ${touchpointId} AND (status = 'sending') IS TRUE
      RETURNING workspace_id, id, customer_id, attempts, playbook_key, step_key, channel, due_at, status, content
    ), logged AS (
      INSERT INTO touchpoint_attempts (workspace_id, touchpoint_id, attempt, at, status, error, provider_message_id)
      SELECT workspace_id, id, attempts, ${at}, 'succeeded', NULL, ${deliveryId} FROM tp
      ON CONFLICT (workspace_id, touchpoint_id, attempt) DO NOTHING
    )
    SELECT tp.id, tp.playbook_key AS "playbookKey", tp.step_key AS "stepKey", tp.channel,
           tp.due_at AS "dueAt", tp.status, c.external_id AS "customerExternalId",
           c.name AS "customerName", c.email AS "customerEmail", c.phone AS "customerPhone",
           c.segment AS "customerSegment", tp.content
    FROM tp JOIN customers c ON c.workspace_id = tp.workspace_id AND c.id = tp.customer_id`.execute(trx);
  const source = result.rows[0];
  if (source) await emitTouchpointEvent(trx, workspaceId, source, 'touchpoint.sent', at);
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
