// What the pump and the recovery read and write: which touchpoints go to Redis, and when.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { DueTouchpoint } from './dispatch-queue.js';

type Db = Kysely<DB> | Transaction<DB>;

/**
 * Locks up to `limit` scheduled touchpoints due by `until`, across workspaces, skipping rows
 * another pump holds: several workers pump at once without handing out the same row twice.
 */
export async function lockDueTouchpoints(
  trx: Transaction<DB>,
  until: Date,
  limit: number,
): Promise<DueTouchpoint[]> {
  return trx
    .selectFrom('touchpoints')
    .select(['workspaceId', 'id', 'customerId', 'dueAt'])
    .where('status', '=', 'scheduled')
    .where('dueAt', '<=', until)
    .orderBy('dueAt')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Marks locked scheduled touchpoints as handed to the queue. */
export async function markQueued(
  trx: Transaction<DB>,
  touchpoints: readonly DueTouchpoint[],
  at: Date,
): Promise<void> {
  if (touchpoints.length === 0) return;
  const byWorkspace = new Map<string, string[]>();
  for (const t of touchpoints)
    byWorkspace.set(t.workspaceId, [...(byWorkspace.get(t.workspaceId) ?? []), t.id]);
  for (const [workspaceId, ids] of byWorkspace) {
    await trx
      .updateTable('touchpoints')
      .set({ status: 'queued', queuedAt: at, updatedAt: at })
      .where('workspaceId', '=', workspaceId)
      .where('id', 'in', ids)
      .where('status', '=', 'scheduled')
      .execute();
  }
}

/** The keyset position of the recovery scan. */
export interface RecoveryKey {
  readonly workspaceId: string;
  readonly id: string;
}

/**
 * Touchpoints that should have a job in Redis: every `queued` one, and `email` ones left in
 * `sending` (a delivery that was retrying or cut short) untouched since `sendingIdleSince`,
 * so one being delivered right now is left to its worker. Webhook touchpoints rest in
 * `sending` until the webhook deliveries settle them, so they are not ours to re-queue.
 */
export async function touchpointsAwaitingJobs(
  db: Db,
  options: { readonly sendingIdleSince: Date; readonly after?: RecoveryKey; readonly limit: number },
): Promise<DueTouchpoint[]> {
  let query = db
    .selectFrom('touchpoints')
    .select(['workspaceId', 'id', 'customerId', 'dueAt'])
    .where((eb) =>
      eb.or([
        eb('status', '=', 'queued'),
        eb.and([
          eb('status', '=', 'sending'),
          eb('channel', '=', 'email'),
          eb('updatedAt', '<', options.sendingIdleSince),
        ]),
      ]),
    );
  const after = options.after;
  if (after)
    query = query.where(sql<boolean>`(workspace_id, id) > (${after.workspaceId}::uuid, ${after.id}::uuid)`);
  return query.orderBy('workspaceId').orderBy('id').limit(options.limit).execute();
}
