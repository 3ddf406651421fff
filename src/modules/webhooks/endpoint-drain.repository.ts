import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { type ClaimedDelivery, claimingUpdate } from './deliveries.repository.js';

/**
 * Claims the endpoint's most overdue pending delivery whose attempt is due, skipping those
 * another worker holds, for one attempt until `leaseUntil` (as claimDelivery does). A worker
 * that has just finished an attempt to the endpoint uses its slot for the next one this way,
 * so the per-endpoint cap is kept without the waiting deliveries polling for a free slot.
 */
export async function claimNextDue(
  db: Kysely<DB> | Transaction<DB>,
  workspaceId: string,
  endpointId: string,
  now: Date,
  leaseUntil: Date,
): Promise<ClaimedDelivery | undefined> {
  // The endpoint is named twice so that whichever index finds the row, it finds it by key.
  return claimingUpdate(db, now, leaseUntil)
    .where('d.endpointId', '=', endpointId)
    .where(
      sql<boolean>`(d.workspace_id, d.id) = (
        SELECT p.workspace_id, p.id FROM webhook_deliveries p
        WHERE p.workspace_id = ${workspaceId} AND p.endpoint_id = ${endpointId}
          AND p.status = 'pending' AND p.next_attempt_at <= ${now}
        ORDER BY p.next_attempt_at, p.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED)`,
    )
    .executeTakeFirst();
}
