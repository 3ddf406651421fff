import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { DeliveryStatus } from './webhooks.schemas.js';

// The delivery log as the API reads it, and its manual retry. What the delivery worker does
// with a delivery (claim, record, cancel) is in deliveries.repository.ts.

type Db = Kysely<DB> | Transaction<DB>;

export interface DeliveryRow {
  readonly id: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly status: string;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly completedAt: Date | null;
}

const DELIVERY_COLUMNS = [
  'id',
  'endpointId',
  'eventId',
  'eventType',
  'status',
  'attempts',
  'nextAttemptAt',
  'lastStatusCode',
  'lastError',
  'createdAt',
  'completedAt',
] as const;

/** An endpoint's deliveries, newest first, after the cursor id. */
export async function listDeliveries(
  db: Db,
  workspaceId: string,
  endpointId: string,
  options: { readonly limit: number; readonly beforeId?: string; readonly status?: DeliveryStatus },
): Promise<DeliveryRow[]> {
  let query = db
    .selectFrom('webhookDeliveries')
    .select(DELIVERY_COLUMNS)
    .where('workspaceId', '=', workspaceId)
    .where('endpointId', '=', endpointId);
  if (options.status) query = query.where('status', '=', options.status);
  if (options.beforeId) query = query.where('id', '<', options.beforeId);
  return query.orderBy('id', 'desc').limit(options.limit).execute();
}

/** One delivery of the endpoint. */
export async function findDelivery(
  db: Db,
  workspaceId: string,
  endpointId: string,
  id: string,
): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom('webhookDeliveries')
    .select(DELIVERY_COLUMNS)
    .where('workspaceId', '=', workspaceId)
    .where('endpointId', '=', endpointId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The attempts of the given deliveries, in order. */
export async function attemptsOf(db: Db, workspaceId: string, deliveryIds: readonly string[]) {
  if (deliveryIds.length === 0) return [];
  return db
    .selectFrom('webhookDeliveryAttempts')
    .select(['deliveryId', 'attempt', 'at', 'statusCode', 'durationMs', 'error', 'responseExcerpt'])
    .where('workspaceId', '=', workspaceId)
    .where('deliveryId', 'in', [...deliveryIds])
    .orderBy('deliveryId')
    .orderBy('attempt')
    .execute();
}

/**
 * Makes a finished delivery due again now, for one more attempt. Answers what stood in the
 * way otherwise: it is still pending or in flight, or it was not found.
 */
export async function requeueDelivery(
  db: Db,
  workspaceId: string,
  endpointId: string,
  id: string,
  at: Date,
): Promise<'requeued' | 'in_flight' | 'not_found'> {
  const row = await db
    .updateTable('webhookDeliveries')
    .set((eb) => ({
      status: 'pending',
      maxAttempts: eb('attempts', '+', 1),
      nextAttemptAt: at,
      updatedAt: at,
      completedAt: null,
    }))
    .where('workspaceId', '=', workspaceId)
    .where('endpointId', '=', endpointId)
    .where('id', '=', id)
    .where('status', 'in', ['succeeded', 'failed', 'cancelled'])
    .returning('id')
    .executeTakeFirst();
  if (row) return 'requeued';
  const exists = await findDelivery(db, workspaceId, endpointId, id);
  return exists ? 'in_flight' : 'not_found';
}
