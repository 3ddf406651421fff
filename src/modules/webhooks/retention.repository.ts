import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/types.js';

/** Where a walk through old dispatched outbox rows stopped: the last row it looked at. */
export interface OutboxPosition {
  /** As Postgres prints it: a Date would drop the microseconds and look at the row again. */
  readonly dispatchedAt: string;
  readonly seq: number;
}

/**
 * Deletes up to `limit` finished deliveries (succeeded, failed, cancelled) completed before
 * `before`, oldest first; their attempts go with them. Rows another pruner holds, or that a
 * manual retry is turning back into pending, are skipped (row locks, SKIP LOCKED): the lock
 * re-reads each row, so one made pending since the statement began is not deleted.
 * Returns how many went.
 */
export async function pruneFinishedDeliveries(db: Kysely<DB>, before: Date, limit: number): Promise<number> {
  const result = await sql`
    DELETE FROM webhook_deliveries d
    USING (
      SELECT workspace_id, id FROM webhook_deliveries
      WHERE status IN ('succeeded', 'failed', 'cancelled') AND completed_at < ${before}
      ORDER BY completed_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ) doomed
    WHERE d.workspace_id = doomed.workspace_id AND d.id = doomed.id`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * Looks at up to `limit` outbox rows dispatched before `before`, after `after`, in dispatch
 * order, and deletes those no webhook delivery refers to: a delivery reads its event's payload
 * from the outbox at every attempt, a manual retry included, so an event stays as long as any
 * of its deliveries does. Rows not yet dispatched are never looked at. Another pruner's rows
 * are skipped. The relay creates an event's deliveries in the transaction that marks it
 * dispatched, so a dispatched row never gains a delivery while this runs.
 * Returns how many went, how many were looked at, and where to go on from.
 */
export async function pruneDispatchedOutbox(
  db: Kysely<DB>,
  before: Date,
  limit: number,
  after?: OutboxPosition,
): Promise<{ deleted: number; scanned: number; last: OutboxPosition | undefined }> {
  return db.transaction().execute(async (trx) => {
    const from = after
      ? sql`AND (o.dispatched_at, o.seq) > (${after.dispatchedAt}::timestamptz, ${after.seq})`
      : sql``;
    const rows = await sql<{ seq: number; position: string; referenced: boolean }>`
      SELECT o.seq, o.dispatched_at::text AS position,
        EXISTS (SELECT 1 FROM webhook_deliveries d
                WHERE d.workspace_id = o.workspace_id AND d.event_id = o.id) AS referenced
      FROM outbox o
      WHERE o.dispatched_at IS NOT NULL AND o.dispatched_at < ${before} ${from}
      ORDER BY o.dispatched_at, o.seq
      LIMIT ${limit}
      FOR UPDATE OF o SKIP LOCKED`.execute(trx);
    const free = rows.rows.filter((row) => !row.referenced).map((row) => row.seq);
    if (free.length > 0) {
      await sql`DELETE FROM outbox WHERE seq = ANY (${free}::bigint[])`.execute(trx);
    }
    const last = rows.rows.at(-1);
    return {
      deleted: free.length,
      scanned: rows.rows.length,
      last: last && { dispatchedAt: last.position, seq: last.seq },
    };
  });
}

/**
 * Erases the rotated-out secrets whose grace period is over: they sign nothing any more, and a
 * secret that is not kept cannot leak. Returns how many endpoints had one.
 */
export async function eraseExpiredSecrets(db: Kysely<DB>, now: Date): Promise<number> {
  const result = await db
    .updateTable('webhookEndpoints')
    .set({ previousSecretCiphertext: null, previousSecretExpiresAt: null })
    .where('previousSecretExpiresAt', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
