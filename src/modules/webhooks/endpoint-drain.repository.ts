import { sql } from 'kysely';
import type { Database } from '../../db/client.js';
import { type ClaimedDelivery, loadClaimed } from './deliveries.repository.js';

/**
 * Claims the endpoint's most overdue pending delivery whose attempt is due, skipping those
 * another worker holds, for one attempt until `leaseUntil` (as claimDelivery does). A worker
 * that has just finished an attempt to the endpoint uses its slot for the next one this way,
 * so the per-endpoint cap is kept without the waiting deliveries polling for a free slot.
 */
export async function claimNextDue(
  db: Database,
  workspaceId: string,
  endpointId: string,
  now: Date,
  leaseUntil: Date,
): Promise<ClaimedDelivery | undefined> {
  const claimed = await sql<{ id: string }>`
    UPDATE webhook_deliveries d
    SET status = 'sending', next_attempt_at = ${leaseUntil}, updated_at = ${now}
    WHERE (d.workspace_id, d.id) = (
      SELECT p.workspace_id, p.id FROM webhook_deliveries p
      WHERE p.workspace_id = ${workspaceId} AND p.endpoint_id = ${endpointId}
        AND p.status = 'pending' AND p.next_attempt_at <= ${now}
      ORDER BY p.next_attempt_at, p.id
      LIMIT 1
      FOR UPDATE SKIP LOCKED)
    RETURNING d.id`.execute(db);
  const row = claimed.rows[0];
  return row && loadClaimed(db, workspaceId, row.id);
}
