import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { LifecycleStage } from './customer-state.js';

type Db = Kysely<DB> | Transaction<DB>;

/**
 * The lifecycle stage as SQL over a `customers` row at `now`, for `?stage=`. The same rule
 * as `lifecycleStage()` in customer-state.ts (documented there); tests hold them equal.
 */
function stageSql(now: Date): RawBuilder<LifecycleStage> {
  const windowStart = sql`${now}::timestamptz - interval '30 days'`;
  return sql<LifecycleStage>`CASE
    WHEN customers.last_cancellation_at IS NOT NULL
         AND NOT coalesce(greatest(customers.last_purchase_at, customers.last_renewal_at) > customers.last_cancellation_at, false)
      THEN 'churned'
    WHEN customers.nps <= 6 THEN 'at_risk'
    WHEN customers.last_inactivity_at > coalesce(customers.last_activity_at, '-infinity'::timestamptz) THEN 'at_risk'
    WHEN coalesce(customers.last_activity_at, customers.first_seen_at) <= ${windowStart} THEN 'at_risk'
    WHEN customers.first_use_at IS NULL THEN
      CASE WHEN coalesce(least(customers.first_purchase_at, customers.first_delivery_at), customers.first_seen_at) > ${windowStart}
        THEN 'onboarding' ELSE 'active' END
    WHEN customers.first_use_at > ${windowStart} THEN 'adoption'
    ELSE 'active'
  END`;
}

export interface CustomerFilters {
  readonly segment?: string;
  readonly stage?: LifecycleStage;
  readonly email?: string;
}

function customersOf(db: Db, workspaceId: string) {
  return db
    .selectFrom('customers')
    .innerJoin('workspaces', 'workspaces.id', 'customers.workspaceId')
    .selectAll('customers')
    .select('workspaces.currency as workspaceCurrency')
    .where('customers.workspaceId', '=', workspaceId)
    .where('customers.erasedAt', 'is', null);
}

export type CustomerRow = Awaited<ReturnType<ReturnType<typeof customersOf>['executeTakeFirstOrThrow']>>;

/** Customers (not erased), newest first, before the cursor id. */
export async function listCustomers(
  db: Db,
  workspaceId: string,
  options: CustomerFilters & { readonly now: Date; readonly limit: number; readonly beforeId?: string },
): Promise<CustomerRow[]> {
  let query = customersOf(db, workspaceId);
  if (options.segment !== undefined) query = query.where('customers.segment', '=', options.segment);
  if (options.email !== undefined) {
    query = query.where(sql`lower(customers.email)`, '=', options.email.toLowerCase());
  }
  if (options.stage !== undefined) query = query.where(stageSql(options.now), '=', options.stage);
  if (options.beforeId !== undefined) query = query.where('customers.id', '<', options.beforeId);
  return query.orderBy('customers.id', 'desc').limit(options.limit).execute();
}

/** The customer (not erased) with this external id. */
export async function findCustomer(
  db: Db,
  workspaceId: string,
  externalId: string,
): Promise<CustomerRow | undefined> {
  return customersOf(db, workspaceId).where('customers.externalId', '=', externalId).executeTakeFirst();
}

/**
 * Open tickets per customer: tickets whose latest `support_ticket.*` event (by occurred_at,
 * then arrival) is not `resolved`. Computed from events, so order of arrival does not matter.
 */
export async function countOpenTickets(
  db: Db,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<Map<string, number>> {
  if (customerIds.length === 0) return new Map();
  const result = await sql<{ customerId: string; open: number }>`
    SELECT customer_id, count(*)::int AS open FROM (
      SELECT DISTINCT ON (customer_id, properties->>'ticket_id') customer_id, type
      FROM events
      WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${customerIds}::uuid[])
        AND type LIKE 'support\\_ticket.%'
      ORDER BY customer_id, properties->>'ticket_id', occurred_at DESC, id DESC
    ) latest
    WHERE type <> 'support_ticket.resolved'
    GROUP BY customer_id`.execute(db);
  return new Map(result.rows.map((row) => [row.customerId, row.open]));
}

const EVENT_COLUMNS = ['id', 'externalId', 'type', 'occurredAt', 'receivedAt', 'properties'] as const;

/**
 * A customer's events, newest first by occurred_at then id, strictly before `before` in the
 * timeline's (at, kind, id) order, so they merge with touchpoints under one cursor.
 */
export async function listCustomerEvents(
  db: Db,
  workspaceId: string,
  customerId: string,
  options: {
    readonly limit: number;
    readonly before?: { readonly at: Date; readonly kind: string; readonly id: string };
  },
) {
  let query = db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .where('workspaceId', '=', workspaceId)
    .where('customerId', '=', customerId);
  const before = options.before;
  if (before) {
    // Within this source kind is constant, so a tie on `at` is decided by kind, then id.
    if (before.kind > 'event') query = query.where('occurredAt', '<=', before.at);
    else if (before.kind < 'event') query = query.where('occurredAt', '<', before.at);
    else {
      query = query.where((eb) =>
        eb.or([
          eb('occurredAt', '<', before.at),
          eb.and([eb('occurredAt', '=', before.at), eb('id', '<', before.id)]),
        ]),
      );
    }
  }
  return query.orderBy('occurredAt', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
}

/** Every event of a customer with the customer object as sent, oldest first (for export). */
export async function allCustomerEvents(db: Db, workspaceId: string, customerId: string) {
  return db
    .selectFrom('events')
    .select([...EVENT_COLUMNS, 'customerSnapshot'])
    .where('workspaceId', '=', workspaceId)
    .where('customerId', '=', customerId)
    .orderBy('occurredAt', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

/** Stores one channel's consent choice; undefined when the customer does not exist. */
export async function setConsent(
  db: Db,
  workspaceId: string,
  externalId: string,
  channel: string,
  choice: { readonly status: string; readonly source: string; readonly updated_at: string },
  now: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('customers')
    .set({
      consent: sql`jsonb_set(consent, ${sql.val([channel])}::text[], ${JSON.stringify(choice)}::jsonb)`,
      updatedAt: now,
    })
    .where('workspaceId', '=', workspaceId)
    .where('externalId', '=', externalId)
    .where('erasedAt', 'is', null)
    .executeTakeFirst();
  return (result.numUpdatedRows ?? 0n) > 0n;
}

/** Locks a (not erased) customer for erasure; undefined when there is none. */
export async function lockCustomerForErasure(db: Db, workspaceId: string, externalId: string) {
  return db
    .selectFrom('customers')
    .select('id')
    .where('workspaceId', '=', workspaceId)
    .where('externalId', '=', externalId)
    .where('erasedAt', 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

// Event properties that carry no personal data and feed KPIs; everything else (comments,
// cancellation reasons, tracking codes, every property of custom.* events) is erased.
const KEPT_PROPERTIES = [
  'amount',
  'currency',
  'order_id',
  'products',
  'plan',
  'carrier',
  'feature',
  'action',
  'metric',
  'value',
  'limit',
  'days',
  'survey',
  'score',
  'touchpoint_id',
  'ticket_id',
  'category',
  'channel',
];

/** Removes personal data from a customer's events; returns how many events were scrubbed. */
export async function scrubCustomerEvents(db: Db, workspaceId: string, customerId: string): Promise<number> {
  const result = await db
    .updateTable('events')
    .set({
      customerSnapshot: null,
      properties: sql`CASE WHEN type LIKE 'custom.%' THEN '{}'::jsonb ELSE (
        SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
        FROM jsonb_each(properties) WHERE key = ANY(${KEPT_PROPERTIES}::text[])) END`,
    })
    .where('workspaceId', '=', workspaceId)
    .where('customerId', '=', customerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows ?? 0n);
}

/**
 * Removes what the customer's touchpoints say about the person: the rendered content (it quotes
 * them) and the notes of task outcomes. An email being sent keeps its content: its next attempt
 * needs it, finds the customer erased, and skips.
 */
export async function scrubTouchpointContent(db: Db, workspaceId: string, customerId: string): Promise<void> {
  await db
    .updateTable('touchpoints')
    .set((eb) => ({
      content: eb.case().when('status', '=', 'sending').then(eb.ref('content')).else(null).end(),
      outcomeNotes: null,
    }))
    .where('workspaceId', '=', workspaceId)
    .where('customerId', '=', customerId)
    .where((eb) => eb.or([eb('content', 'is not', null), eb('outcomeNotes', 'is not', null)]))
    .execute();
}

/**
 * Erases a customer's personal data from its profile and gives it an unlinkable pseudonym
 * as external id, so a new event with the old id starts a new customer. Facts (amounts,
 * dates, counts) and the segment stay, so KPIs stay right.
 */
export async function eraseCustomerProfile(
  db: Db,
  workspaceId: string,
  customerId: string,
  pseudonym: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('customers')
    .set({
      externalId: pseudonym,
      name: null,
      email: null,
      phone: null,
      locale: null,
      timezone: null,
      attributes: '{}',
      consent: '{}',
      erasedAt: now,
      updatedAt: now,
    })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', customerId)
    .execute();
}

export async function insertErasure(
  db: Db,
  row: {
    readonly workspaceId: string;
    readonly id: string;
    readonly customerId: string;
    readonly erasedAt: Date;
    readonly keyId: string | null;
    readonly eventsScrubbed: number;
  },
): Promise<void> {
  await db.insertInto('customerErasures').values(row).execute();
}
