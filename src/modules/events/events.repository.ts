import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { type CustomerState, toCustomerState } from '../customers/customer-state.js';

type Db = Kysely<DB> | Transaction<DB>;

/** One event row to store, with the customer id to use if its customer is new. */
export interface EventToStore {
  readonly id: string;
  readonly externalId: string;
  readonly type: string;
  readonly occurredAt: Date;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly customer: Readonly<Record<string, unknown>> & { readonly id: string };
  readonly amount: number | null;
  readonly currency: string | null;
  readonly bodyHash: string;
  readonly candidateCustomerId: string;
}

export interface StoredEvents {
  /** External id → internal id and customer id of the events this statement inserted. */
  readonly inserted: ReadonlyMap<string, { readonly id: string; readonly customerId: string }>;
  /** The upserted customers, by external id, with their facts after the upsert. */
  readonly customers: ReadonlyMap<string, CustomerState>;
}

// Activity-class events: the ones that show the customer uses what they bought.
const ACTIVITY_TYPES = sql.raw(`('activity', 'first_use', 'usage', 'purchase', 'delivery')`);

/**
 * Stores events and upserts their customers with the facts they carry, in ONE statement:
 * the events go in with `ON CONFLICT DO NOTHING` (the unique key on the client's id is
 * the idempotency check, race-free), and only the events actually inserted feed the
 * customer upsert, so a duplicate changes nothing. Per customer, profile fields take the
 * last given value in batch order, attributes merge in batch order, and facts fold with
 * min/max/sum, which is why late and out-of-order events give the same facts. Rows are
 * written in external-id order so concurrent batches lock in the same order (no deadlock).
 */
export async function storeEvents(
  trx: Transaction<DB>,
  workspaceId: string,
  now: Date,
  events: readonly EventToStore[],
): Promise<StoredEvents> {
  const input = JSON.stringify(
    events.map((e, ord) => ({
      ord,
      id: e.id,
      external_id: e.externalId,
      type: e.type,
      occurred_at: e.occurredAt.toISOString(),
      properties: e.properties,
      customer: e.customer,
      customer_external_id: e.customer.id,
      candidate_customer_id: e.candidateCustomerId,
      amount: e.amount,
      currency: e.currency,
      body_hash: e.bodyHash,
    })),
  );
  const result = await sql<{ inserted: unknown; customers: unknown }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${input}::jsonb) AS r(
        ord int, id uuid, external_id text, type text, occurred_at timestamptz, properties jsonb,
        customer jsonb, customer_external_id text, candidate_customer_id uuid, amount numeric,
        currency text, body_hash text)
    ),
    ws AS (SELECT currency FROM workspaces WHERE id = ${workspaceId}),
    inserted AS (
      INSERT INTO events (workspace_id, id, external_id, customer_id, type, occurred_at, received_at,
                          properties, customer_snapshot, amount, currency, body_hash)
      SELECT ${workspaceId}, i.id, i.external_id, coalesce(c.id, i.candidate_customer_id), i.type,
             i.occurred_at, ${now}, i.properties, i.customer, i.amount,
             CASE WHEN i.amount IS NULL THEN NULL ELSE coalesce(i.currency, (SELECT currency FROM ws)) END,
             decode(i.body_hash, 'hex')
      FROM input i
      LEFT JOIN customers c ON c.workspace_id = ${workspaceId} AND c.external_id = i.customer_external_id
      ORDER BY i.external_id
      ON CONFLICT (workspace_id, external_id) DO NOTHING
      RETURNING id, external_id, customer_id, type, occurred_at, amount, currency, properties
    ),
    facts AS (
      SELECT i.customer_external_id AS external_id,
        (array_agg(n.customer_id))[1] AS customer_id,
        (array_agg(i.customer->>'name' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'name'))[1] AS name,
        (array_agg(i.customer->>'email' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'email'))[1] AS email,
        (array_agg(i.customer->>'phone' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'phone'))[1] AS phone,
        (array_agg(i.customer->>'locale' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'locale'))[1] AS locale,
        (array_agg(i.customer->>'timezone' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'timezone'))[1] AS timezone,
        (array_agg(i.customer->>'segment' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'segment'))[1] AS segment,
        jsonb_merge_agg(coalesce(i.customer->'attributes', '{}'::jsonb) ORDER BY i.ord) AS attributes,
        min(n.occurred_at) AS first_seen_at,
        min(n.occurred_at) FILTER (WHERE n.type = 'purchase') AS first_purchase_at,
        max(n.occurred_at) FILTER (WHERE n.type = 'purchase') AS last_purchase_at,
        count(*) FILTER (WHERE n.type = 'purchase') AS orders_count,
        coalesce(sum(n.amount) FILTER (WHERE n.type = 'purchase' AND n.currency = (SELECT currency FROM ws)), 0) AS revenue_total,
        count(*) FILTER (WHERE n.type = 'purchase' AND n.currency = (SELECT currency FROM ws)) AS revenue_orders,
        max(n.occurred_at) FILTER (WHERE n.type IN ${ACTIVITY_TYPES}) AS last_activity_at,
        min(n.occurred_at) FILTER (WHERE n.type = 'first_use') AS first_use_at,
        min(n.occurred_at) FILTER (WHERE n.type = 'delivery') AS first_delivery_at,
        max(n.occurred_at) FILTER (WHERE n.type = 'cancellation') AS last_cancellation_at,
        max(n.occurred_at) FILTER (WHERE n.type = 'renewal') AS last_renewal_at,
        max(n.occurred_at) FILTER (WHERE n.type = 'inactivity') AS last_inactivity_at,
        max(n.occurred_at) FILTER (WHERE n.type = 'survey_response' AND n.properties->>'survey' = 'nps') AS nps_at,
        (array_agg(n.external_id ORDER BY n.occurred_at DESC, n.external_id DESC)
          FILTER (WHERE n.type = 'survey_response' AND n.properties->>'survey' = 'nps'))[1] AS nps_event_key,
        (array_agg((n.properties->>'score')::smallint ORDER BY n.occurred_at DESC, n.external_id DESC)
          FILTER (WHERE n.type = 'survey_response' AND n.properties->>'survey' = 'nps'))[1] AS nps
      FROM inserted n JOIN input i ON i.id = n.id
      GROUP BY i.customer_external_id
    ),
    upserted AS (
      INSERT INTO customers AS c (workspace_id, id, external_id, name, email, phone, locale, timezone, segment,
        attributes, first_seen_at, first_purchase_at, last_purchase_at, orders_count, revenue_total,
        revenue_orders, last_activity_at, first_use_at, first_delivery_at, last_cancellation_at,
        last_renewal_at, last_inactivity_at, nps, nps_at, nps_event_key, created_at, updated_at)
      SELECT ${workspaceId}, f.customer_id, f.external_id, f.name, f.email, f.phone, f.locale, f.timezone,
        f.segment, f.attributes, f.first_seen_at, f.first_purchase_at, f.last_purchase_at, f.orders_count,
        f.revenue_total, f.revenue_orders, f.last_activity_at, f.first_use_at, f.first_delivery_at,
        f.last_cancellation_at, f.last_renewal_at, f.last_inactivity_at, f.nps, f.nps_at, f.nps_event_key,
        ${now}, ${now}
      FROM facts f
      ORDER BY f.external_id
      ON CONFLICT (workspace_id, external_id) DO UPDATE SET
        name = coalesce(excluded.name, c.name),
        email = coalesce(excluded.email, c.email),
        phone = coalesce(excluded.phone, c.phone),
        locale = coalesce(excluded.locale, c.locale),
        timezone = coalesce(excluded.timezone, c.timezone),
        segment = coalesce(excluded.segment, c.segment),
        attributes = c.attributes || excluded.attributes,
        first_seen_at = least(c.first_seen_at, excluded.first_seen_at),
        first_purchase_at = least(c.first_purchase_at, excluded.first_purchase_at),
        last_purchase_at = greatest(c.last_purchase_at, excluded.last_purchase_at),
        orders_count = c.orders_count + excluded.orders_count,
        revenue_total = c.revenue_total + excluded.revenue_total,
        revenue_orders = c.revenue_orders + excluded.revenue_orders,
        last_activity_at = greatest(c.last_activity_at, excluded.last_activity_at),
        first_use_at = least(c.first_use_at, excluded.first_use_at),
        first_delivery_at = least(c.first_delivery_at, excluded.first_delivery_at),
        last_cancellation_at = greatest(c.last_cancellation_at, excluded.last_cancellation_at),
        last_renewal_at = greatest(c.last_renewal_at, excluded.last_renewal_at),
        last_inactivity_at = greatest(c.last_inactivity_at, excluded.last_inactivity_at),
        nps = CASE WHEN c.nps_at IS NULL OR (excluded.nps_at, excluded.nps_event_key) > (c.nps_at, c.nps_event_key)
                   THEN coalesce(excluded.nps, c.nps) ELSE c.nps END,
        nps_event_key = CASE WHEN c.nps_at IS NULL OR (excluded.nps_at, excluded.nps_event_key) > (c.nps_at, c.nps_event_key)
                   THEN coalesce(excluded.nps_event_key, c.nps_event_key) ELSE c.nps_event_key END,
        nps_at = greatest(c.nps_at, excluded.nps_at),
        updated_at = excluded.updated_at
      RETURNING c.*
    )
    SELECT
      (SELECT coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'external_id', n.external_id,
                                                    'customer_id', n.customer_id)), '[]'::jsonb)
         FROM inserted n) AS inserted,
      (SELECT coalesce(jsonb_agg(to_jsonb(u)), '[]'::jsonb) FROM upserted u) AS customers
  `.execute(trx);
  const row = result.rows[0];
  const inserted = new Map<string, { id: string; customerId: string }>();
  for (const item of (row?.inserted ?? []) as { id: string; external_id: string; customer_id: string }[]) {
    inserted.set(item.external_id, { id: item.id, customerId: item.customer_id });
  }
  const customers = new Map<string, CustomerState>();
  for (const item of (row?.customers ?? []) as Record<string, unknown>[]) {
    // jsonb keys are not camel-cased by the client: do it for the row's columns here.
    const columns = Object.fromEntries(
      Object.entries(item).map(([key, value]) => [
        key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
        value,
      ]),
    );
    const state = toCustomerState(columns);
    customers.set(state.externalId, state);
  }
  return { inserted, customers };
}

/**
 * Points events at their customer's real id. Needed only when another transaction created
 * the customer between this one's lookup and its upsert (the upsert then returned that id).
 */
export async function repointEvents(
  trx: Transaction<DB>,
  workspaceId: string,
  eventIds: readonly string[],
  customerId: string,
): Promise<void> {
  await trx
    .updateTable('events')
    .set({ customerId })
    .where('workspaceId', '=', workspaceId)
    .where('id', 'in', eventIds)
    .execute();
}

/** The stored body hashes (hex) of events with these client ids. */
export async function findEventHashes(
  db: Db,
  workspaceId: string,
  externalIds: readonly string[],
): Promise<Map<string, string>> {
  if (externalIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('events')
    .select(['externalId', 'bodyHash'])
    .where('workspaceId', '=', workspaceId)
    .where('externalId', 'in', externalIds)
    .execute();
  return new Map(rows.map((row) => [row.externalId, row.bodyHash.toString('hex')]));
}
