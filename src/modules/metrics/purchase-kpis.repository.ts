import { type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/client.js';
import { inSegment, type KpiScope, num, one, segmentOfCustomers, type Window } from './metrics.repository.js';

// The KPIs made of customers' purchase histories: churn, revenue, LTV, cross-sell, lead time.
// They read per-customer rollups kept by triggers in the writing transaction (migration
// 20261203010000): customer_churn_periods, and per purchase in purchase_categories its amount,
// whether it adds a category to the customer's first purchase, and its first contact after the sale.

/** Customers whose first purchase is at or after `at`: few for a recent instant (an index range). */
export async function buyersSince(db: Database, scope: KpiScope, at: Date): Promise<number> {
  const row = await one(
    db,
    sql<{ buyers: number }>`
      SELECT count(*)::int AS buyers FROM customers c
      WHERE c.workspace_id = ${scope.workspaceId} AND c.first_purchase_at >= ${at} ${segmentOfCustomers(scope)}`,
  );
  return row.buyers;
}

/**
 * Of the customers who bought before the window starts, those churned then, and those not
 * churned then who cancelled within it. Churned at `from`: their latest cancellation before
 * `from` has no purchase or renewal after it (before `from`) — a customer_churn_periods period
 * open at `from`.
 */
export async function churnCounts(db: Database, scope: KpiScope, w: Window) {
  const ws = scope.workspaceId;
  const openAtStart = sql`p.started_at < ${w.from} AND (p.ended_at IS NULL OR p.ended_at >= ${w.from})`;
  const row = await one(
    db,
    sql<{ churned: number; cancelled: number }>`
      SELECT
        (SELECT count(*)::int FROM customer_churn_periods p
          WHERE p.workspace_id = ${ws} AND ${openAtStart} ${inSegment(scope, sql`p.customer_id`)}) AS churned,
        -- The window's cancellations are few: each customer probed (index-only) for a purchase
        -- before the start and for a churn period open at it. The second probe is a scalar
        -- subquery, so it stays a probe per cancellation: as NOT EXISTS the planner may turn it
        -- into an anti-join, and with stale statistics it rescanned every period per cancellation.
        (SELECT count(DISTINCT e.customer_id)::int FROM events e
          WHERE e.workspace_id = ${ws} AND e.type = 'cancellation'
            AND e.occurred_at >= ${w.from} AND e.occurred_at < ${w.to}
            AND EXISTS (SELECT 1 FROM purchase_categories b
                        WHERE b.workspace_id = ${ws} AND b.customer_id = e.customer_id AND b.occurred_at < ${w.from})
            AND (SELECT count(*) FROM customer_churn_periods p
                 WHERE p.workspace_id = ${ws} AND p.customer_id = e.customer_id AND ${openAtStart}) = 0
            ${inSegment(scope, sql`e.customer_id`)}) AS cancelled`,
  );
  return { churned: row.churned, cancelled: row.cancelled };
}

export interface PurchaseWindow {
  /** Purchases in the workspace currency: their revenue, number and distinct buyers. */
  readonly revenue: number;
  readonly orders: number;
  readonly buyers: number;
  /** Every purchase (any currency): distinct buyers, and those with a category new to their first purchase. */
  readonly allBuyers: number;
  readonly crossBuyers: number;
  /** Every purchase; those with a contact at or after the sale, and the mean hours to it. */
  readonly sales: number;
  readonly contacted: number;
  readonly leadHours: number | null;
}

/**
 * The window's purchases in one flat, index-only aggregate: what average ticket, LTV, cross-sell
 * and lead time need. A customer's first purchase in the window is the one whose previous
 * purchase (of the same kind: any, in the currency, adding a category) is before the window or
 * none (migration 20261207110000), so distinct buyers are counts of rows, with no per-customer
 * grouping (a hash aggregate that cost three times the scan).
 */
export async function purchaseWindow(db: Database, scope: KpiScope, w: Window): Promise<PurchaseWindow> {
  const inCurrency = sql`p.currency = ${scope.currency}`;
  const firstSince = (column: string) =>
    sql`(${sql.ref(`p.${column}`)} IS NULL OR ${sql.ref(`p.${column}`)} < ${w.from})`;
  const row = await one(
    db,
    // Kysely's CamelCasePlugin turns the snake_case aliases into these camelCase keys.
    sql<{
      revenue: string | null;
      orders: number;
      buyers: number;
      allBuyers: number;
      crossBuyers: number;
      sales: number;
      contacted: number;
      leadHours: number | null;
    }>`
      SELECT sum(p.amount) FILTER (WHERE ${inCurrency}) AS revenue,
             count(*) FILTER (WHERE ${inCurrency})::int AS orders,
             count(*) FILTER (WHERE ${inCurrency} AND ${firstSince('previous_in_currency_at')})::int AS buyers,
             count(*) FILTER (WHERE ${firstSince('previous_at')})::int AS all_buyers,
             count(*) FILTER (WHERE p.adds_category AND ${firstSince('previous_adding_at')})::int AS cross_buyers,
             count(*)::int AS sales,
             count(p.first_contact_at)::int AS contacted,
             (sum(extract(epoch FROM p.first_contact_at - p.occurred_at))
               / nullif(count(p.first_contact_at), 0))::float8 / 3600 AS lead_hours
      FROM purchase_categories p
      WHERE p.workspace_id = ${scope.workspaceId}
        AND p.occurred_at >= ${w.from} AND p.occurred_at < ${w.to}
        ${inSegment(scope, sql`p.customer_id`)}`,
  );
  return {
    revenue: num(row.revenue) ?? 0,
    orders: row.orders,
    buyers: row.buyers,
    allBuyers: row.allBuyers,
    crossBuyers: row.crossBuyers,
    sales: row.sales,
    contacted: row.contacted,
    leadHours: num(row.leadHours),
  };
}

/**
 * The revenue (workspace currency) in the window of the customers who bought in `cohort`, the
 * previous window: the cohort's own revenue and size there are that window's revenue and buyers.
 */
export async function cohortRevenue(
  db: Database,
  scope: KpiScope,
  w: Window,
  cohort: Window,
): Promise<number> {
  const inCurrency = (alias: RawBuilder<unknown>) => sql`${alias}.currency = ${scope.currency}`;
  // The cohort window right before the window (as revenue retention asks): a customer's latest
  // purchase before the window is the previous purchase of its first one in the window, so the
  // cohort is read off the window's own rows instead of a second window's. Not with a segment:
  // the planner underestimates those first purchases (previous and occurred times correlate) and
  // then probes the segment per purchase instead of hashing it.
  const cohortCustomers =
    cohort.to.getTime() === w.from.getTime() && scope.segment === undefined
      ? sql`SELECT q.customer_id FROM purchase_categories q
          WHERE q.workspace_id = ${scope.workspaceId} AND ${inCurrency(sql`q`)}
            AND q.occurred_at >= ${w.from} AND q.occurred_at < ${w.to}
            AND q.previous_in_currency_at >= ${cohort.from} AND q.previous_in_currency_at < ${cohort.to}`
      : sql`SELECT q.customer_id FROM purchase_categories q
          WHERE q.workspace_id = ${scope.workspaceId} AND ${inCurrency(sql`q`)}
            AND q.occurred_at >= ${cohort.from} AND q.occurred_at < ${cohort.to}`;
  const row = await one(
    db,
    sql<{ revenue: string | null }>`
      SELECT sum(p.amount) AS revenue
      FROM purchase_categories p
      WHERE p.workspace_id = ${scope.workspaceId} AND ${inCurrency(sql`p`)}
        AND p.occurred_at >= ${w.from} AND p.occurred_at < ${w.to}
        AND p.customer_id IN (${cohortCustomers})
        ${inSegment(scope, sql`p.customer_id`)}`,
  );
  return num(row.revenue) ?? 0;
}

/**
 * The customers who ever bought, and the sum of their running revenue totals (workspace currency):
 * the same whatever the window, so a request reads them once; "before `at`" subtracts what
 * happened since.
 */
export async function buyersAndRevenue(
  db: Database,
  scope: KpiScope,
): Promise<{ buyers: number; revenue: number }> {
  const row = await one(
    db,
    sql<{ buyers: number; total: string | null }>`
      SELECT count(*)::int AS buyers, sum(c.revenue_total) AS total FROM customers c
      WHERE c.workspace_id = ${scope.workspaceId} AND c.first_purchase_at IS NOT NULL ${segmentOfCustomers(scope)}`,
  );
  return { buyers: row.buyers, revenue: num(row.total) ?? 0 };
}

/** Customers who ever bought, in the whole workspace: an index-only count (customers_first_purchase_idx). */
export async function buyerCount(db: Database, scope: KpiScope): Promise<number> {
  const row = await one(
    db,
    sql<{ buyers: number }>`
      SELECT count(*)::int AS buyers FROM customers c
      WHERE c.workspace_id = ${scope.workspaceId} AND c.first_purchase_at IS NOT NULL`,
  );
  return row.buyers;
}

/** Revenue (workspace currency) of the purchases at or after `at`: subtracted from the total, the revenue before `at`. */
export async function revenueSince(db: Database, scope: KpiScope, at: Date): Promise<number> {
  const row = await one(
    db,
    sql<{ since: string | null }>`
      SELECT sum(p.amount) AS since FROM purchase_categories p
      WHERE p.workspace_id = ${scope.workspaceId} AND p.currency = ${scope.currency}
        AND p.occurred_at >= ${at} ${inSegment(scope, sql`p.customer_id`)}`,
  );
  return num(row.since) ?? 0;
}
