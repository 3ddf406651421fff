import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { DeliveryStatus } from './webhooks.schemas.js';

type Db = Kysely<DB> | Transaction<DB>;

/** A delivery with what its attempt needs: the endpoint and the event. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly workspaceId: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly url: string;
  readonly secretCiphertext: Buffer;
  /** The secret a rotation replaced, while it still signs beside the new one (its grace period). */
  readonly previousSecretCiphertext: Buffer | null;
  readonly endpointLive: boolean;
  readonly eventData: string;
  readonly eventAt: Date;
  /** Whether other deliveries to the endpoint were waiting, due, when this one was claimed. */
  readonly backlog: boolean;
}

/**
 * Takes a delivery for one attempt: a pending one whose attempt is due, or one whose earlier
 * attempt's lease ran out (its worker died). Until `leaseUntil` no one else takes it. `busy`
 * when its endpoint already has `perEndpoint` attempts in flight (a soft cap: concurrent claims
 * may pass it by a few), so one slow receiver cannot take every worker slot; `notBefore` when
 * it is pending but its next attempt is not due yet (a job that ran early: a stalled job run
 * again after its worker died between recording an attempt and delaying the job); undefined
 * when there is nothing to do.
 */
export async function claimDelivery(
  db: Db,
  workspaceId: string,
  id: string,
  now: Date,
  leaseUntil: Date,
  perEndpoint: number,
): Promise<ClaimedDelivery | 'busy' | { readonly notBefore: Date } | undefined> {
  const claimed = await claimingUpdate(db, now, leaseUntil)
    .where('d.workspaceId', '=', workspaceId)
    .where('d.id', '=', id)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('d.status', '=', 'pending'),
          eb.or([eb('d.nextAttemptAt', 'is', null), eb('d.nextAttemptAt', '<=', now)]),
        ]),
        eb.and([eb('d.status', '=', 'sending'), eb('d.nextAttemptAt', '<=', now)]),
      ]),
    )
    .where(
      sql<boolean>`(SELECT count(*) FROM webhook_deliveries f
        WHERE f.workspace_id = d.workspace_id AND f.endpoint_id = d.endpoint_id
          AND f.status = 'sending' AND f.next_attempt_at > ${now}) < ${perEndpoint}`,
    )
    .executeTakeFirst();
  if (claimed) return claimed;
  const waiting = await db
    .selectFrom('webhookDeliveries')
    .select(['status', 'nextAttemptAt'])
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'sending'])
    .executeTakeFirst();
  if (!waiting) return undefined;
  if (waiting.nextAttemptAt === null || waiting.nextAttemptAt <= now) return 'busy';
  // In flight elsewhere (its lease runs): that attempt decides what comes next.
  return waiting.status === 'pending' ? { notBefore: waiting.nextAttemptAt } : undefined;
}

/**
 * The UPDATE that takes a delivery for one attempt (`sending` until `leaseUntil`), joined with
 * its endpoint and its event so that it returns, in the same statement, what the attempt needs.
 * The caller adds which delivery, and on what condition.
 */
export function claimingUpdate(db: Db, now: Date, leaseUntil: Date) {
  return db
    .updateTable('webhookDeliveries as d')
    .from(['webhookEndpoints as e', 'outbox as o'])
    .set({ status: 'sending', nextAttemptAt: leaseUntil, updatedAt: now })
    .whereRef('e.workspaceId', '=', 'd.workspaceId')
    .whereRef('e.id', '=', 'd.endpointId')
    .whereRef('o.workspaceId', '=', 'd.workspaceId')
    .whereRef('o.id', '=', 'd.eventId')
    .returning([
      'd.id',
      'd.workspaceId',
      'd.endpointId',
      'd.eventId',
      'd.eventType',
      'd.attempts',
      'd.maxAttempts',
      'e.url',
      'e.secretCiphertext',
      sql<Buffer | null>`CASE WHEN e.previous_secret_expires_at > ${now}
        THEN e.previous_secret_ciphertext END`.as('previousSecretCiphertext'),
      sql<boolean>`e.enabled AND e.deleted_at IS NULL`.as('endpointLive'),
      // As text: the event data is the shop's data and its keys must not be camel-cased.
      sql<string>`o.data::text`.as('eventData'),
      'o.createdAt as eventAt',
      // A look at the head of the endpoint's waiting deliveries (webhook_deliveries_pending_idx):
      // a worker keeps its slot for the next one only when there is one.
      sql<boolean>`EXISTS (SELECT 1 FROM webhook_deliveries w
        WHERE w.workspace_id = d.workspace_id AND w.endpoint_id = d.endpoint_id
          AND w.status = 'pending' AND w.next_attempt_at <= ${now} AND w.id <> d.id)`.as('backlog'),
    ]);
}

export interface AttemptRecord {
  readonly attempt: number;
  readonly at: Date;
  readonly statusCode: number | null;
  readonly durationMs: number;
  readonly error: string | null;
  readonly responseExcerpt: string | null;
}

/** One HTTP attempt of a delivery to log, and the delivery's state after it. */
export interface AttemptOutcomeRecord {
  readonly deliveryId: string;
  readonly attempt: AttemptRecord;
  readonly next: { readonly status: DeliveryStatus; readonly nextAttemptAt: Date | null };
}

/**
 * Logs HTTP attempts of a workspace's deliveries and moves each delivery to its next state, in
 * one statement whatever their number.
 */
export async function recordAttempts(
  trx: Db,
  workspaceId: string,
  records: readonly AttemptOutcomeRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const column = <T>(value: (r: AttemptOutcomeRecord) => T) => records.map(value);
  await sql`
    WITH v AS (
      SELECT * FROM unnest(${column((r) => r.deliveryId)}::uuid[], ${column((r) => r.attempt.attempt)}::int[],
                           ${column((r) => r.attempt.at)}::timestamptz[], ${column((r) => r.attempt.statusCode)}::int[],
                           ${column((r) => r.attempt.durationMs)}::int[], ${column((r) => r.attempt.error)}::text[],
                           ${column((r) => r.attempt.responseExcerpt)}::text[], ${column((r) => r.next.status)}::text[],
                           ${column((r) => r.next.nextAttemptAt)}::timestamptz[])
        AS v(delivery_id, attempt, at, status_code, duration_ms, error, response_excerpt, status, next_attempt_at)
    ), logged AS (
      INSERT INTO webhook_delivery_attempts
        (workspace_id, delivery_id, attempt, at, status_code, duration_ms, error, response_excerpt)
      SELECT ${workspaceId}, delivery_id, attempt, at, status_code, duration_ms, error, response_excerpt FROM v
      ON CONFLICT (workspace_id, delivery_id, attempt) DO NOTHING
    )
    UPDATE webhook_deliveries d
    SET status = v.status, attempts = v.attempt, next_attempt_at = v.next_attempt_at,
        last_status_code = v.status_code, last_error = v.error, updated_at = v.at,
        completed_at = CASE WHEN v.status <> 'pending' THEN v.at END
    FROM v
    WHERE d.workspace_id = ${workspaceId} AND d.id = v.delivery_id`.execute(trx);
}

/** Logs one HTTP attempt and moves the delivery to its next state, in one statement. */
export async function recordAttempt(
  trx: Db,
  workspaceId: string,
  deliveryId: string,
  attempt: AttemptRecord,
  next: { readonly status: DeliveryStatus; readonly nextAttemptAt: Date | null },
): Promise<void> {
  await recordAttempts(trx, workspaceId, [{ deliveryId, attempt, next }]);
}

/** Cancels a delivery (its endpoint went away before the attempt). */
export async function cancelDelivery(trx: Db, workspaceId: string, id: string, at: Date): Promise<void> {
  await trx
    .updateTable('webhookDeliveries')
    .set({ status: 'cancelled', nextAttemptAt: null, updatedAt: at, completedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** Cancels an endpoint's waiting deliveries; returns the events they carried. */
export async function cancelPendingDeliveries(
  trx: Db,
  workspaceId: string,
  endpointId: string,
  at: Date,
): Promise<{ eventId: string; eventType: string }[]> {
  return trx
    .updateTable('webhookDeliveries')
    .set({ status: 'cancelled', nextAttemptAt: null, updatedAt: at, completedAt: at })
    .where('workspaceId', '=', workspaceId)
    .where('endpointId', '=', endpointId)
    .where('status', '=', 'pending')
    .returning(['eventId', 'eventType'])
    .execute();
}

/** How the deliveries of one event stand: still going, and succeeded. */
export async function eventDeliveryTally(
  trx: Db,
  workspaceId: string,
  eventId: string,
): Promise<{ open: number; succeeded: number }> {
  const row = await trx
    .selectFrom('webhookDeliveries')
    .select([
      sql<number>`count(*) FILTER (WHERE status IN ('pending', 'sending'))::int`.as('open'),
      sql<number>`count(*) FILTER (WHERE status = 'succeeded')::int`.as('succeeded'),
    ])
    .where('workspaceId', '=', workspaceId)
    .where('eventId', '=', eventId)
    .executeTakeFirstOrThrow();
  return row;
}

export interface OverdueDelivery {
  readonly workspaceId: string;
  readonly id: string;
  readonly nextAttemptAt: Date;
}

/**
 * Deliveries whose attempt is overdue (a lost job) or whose in-flight lease ran out (a dead
 * worker), most overdue first, after `after` (the last one of the previous page).
 */
export async function overdueDeliveries(
  db: Db,
  before: Date,
  limit: number,
  after?: { readonly nextAttemptAt: Date; readonly workspaceId: string; readonly id: string },
): Promise<OverdueDelivery[]> {
  let query = db
    .selectFrom('webhookDeliveries')
    .select(['workspaceId', 'id', 'nextAttemptAt'])
    .where('status', 'in', ['pending', 'sending'])
    .where('nextAttemptAt', '<=', before);
  if (after) {
    query = query.where((eb) =>
      eb(
        eb.refTuple('nextAttemptAt', 'workspaceId', 'id'),
        '>',
        eb.tuple(after.nextAttemptAt, after.workspaceId, after.id),
      ),
    );
  }
  const rows = await query
    .orderBy('nextAttemptAt')
    .orderBy('workspaceId')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows as OverdueDelivery[];
}
