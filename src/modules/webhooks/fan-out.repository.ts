import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

type Db = Kysely<DB> | Transaction<DB>;

/** An undispatched outbox event and the endpoints it goes to (none: nobody gets it). */
export interface FanOut {
  readonly seq: number;
  readonly workspaceId: string;
  readonly eventId: string;
  readonly type: string;
  /** The endpoint the event names, when it names one. */
  readonly targetId: string | null;
  readonly endpointIds: readonly string[];
  /** The named endpoint exists but is disabled (or deleted). */
  readonly targetDisabled: boolean;
}

/**
 * Locks up to `limit` undispatched outbox rows from `fromSeq` on, oldest first, skipping those
 * another relay holds, and finds each one's recipients: the named endpoint when the event names
 * one (whatever it subscribed to: the step chose it), otherwise every live endpoint subscribed
 * to the type.
 */
export async function takeFanOuts(trx: Transaction<DB>, limit: number, fromSeq = 0): Promise<FanOut[]> {
  const events = await trx
    .selectFrom('outbox')
    .select(['seq', 'workspaceId', 'id', 'type', 'endpointId'])
    .where('dispatchedAt', 'is', null)
    .where('seq', '>=', fromSeq)
    .orderBy('seq')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  if (events.length === 0) return [];
  const recipients = await sql<{ seq: number; endpointId: string; live: boolean }>`
    SELECT o.seq, e.id AS endpoint_id, (e.enabled AND e.deleted_at IS NULL) AS live
    FROM outbox o
    JOIN webhook_endpoints e ON e.workspace_id = o.workspace_id
      AND CASE WHEN o.endpoint_id IS NOT NULL THEN e.id = o.endpoint_id
               ELSE e.enabled AND e.deleted_at IS NULL AND (o.type = ANY (e.events) OR '*' = ANY (e.events))
          END
    WHERE o.seq = ANY (${events.map((e) => e.seq)}::bigint[])`.execute(trx);
  return events.map((event) => {
    const mine = recipients.rows.filter((r) => Number(r.seq) === event.seq);
    return {
      seq: event.seq,
      workspaceId: event.workspaceId,
      eventId: event.id,
      type: event.type,
      targetId: event.endpointId,
      endpointIds: mine.filter((r) => r.live).map((r) => r.endpointId),
      targetDisabled: event.endpointId !== null && mine.some((r) => !r.live),
    };
  });
}

export interface NewDelivery {
  readonly workspaceId: string;
  readonly id: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly maxAttempts: number;
  readonly at: Date;
}

/** Inserts deliveries; one that exists for the same event and endpoint is left alone. */
export async function insertDeliveries(
  trx: Db,
  deliveries: readonly NewDelivery[],
): Promise<{ workspaceId: string; id: string; endpointId: string }[]> {
  if (deliveries.length === 0) return [];
  return trx
    .insertInto('webhookDeliveries')
    .values(
      deliveries.map(({ at, ...d }) => ({
        ...d,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: at,
        createdAt: at,
        updatedAt: at,
      })),
    )
    .onConflict((oc) => oc.columns(['workspaceId', 'eventId', 'endpointId']).doNothing())
    .returning(['workspaceId', 'id', 'endpointId'])
    .execute();
}

/** Marks outbox rows relayed. */
export async function markDispatched(trx: Db, seqs: readonly number[], at: Date): Promise<void> {
  if (seqs.length === 0) return;
  await trx
    .updateTable('outbox')
    .set({ dispatchedAt: at })
    .where('seq', 'in', [...seqs])
    .execute();
}
