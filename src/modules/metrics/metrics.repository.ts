import { type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/client.js';

// The SQL of each KPI over one window [from, to) of one workspace. Every function answers the
// raw counts and sums its KPI is made of; kpi-catalog.ts turns them into the value, so the
// division by zero is decided in one place (no denominator → no value).

/** Whose data a KPI reads: the workspace, its currency, an optional customer segment. */
export interface KpiScope {
  readonly workspaceId: string;
  readonly currency: string;
  readonly segment?: string | undefined;
}

export interface Window {
  readonly from: Date;
  readonly to: Date;
}

/**
 * Touchpoints whose template is an upsell or cross-sell offer (seed: `upgrade-offer`, `upgrade-offer-en`).
 * Inlined as a literal so the planner matches the partial index of the same predicate.
 */
export const UPSELL_TEMPLATE_PATTERN = '(upgrade|upsell|cross-sell)';

/** How long after an offer a purchase counts as its conversion. */
export const ATTRIBUTION_DAYS = 14;

/** `AND <customer of alias> is in the segment`, or nothing without a segment. */
function inSegment(scope: KpiScope, customerIdColumn: RawBuilder<unknown>): RawBuilder<unknown> {
  if (scope.segment === undefined) return sql``;
  return sql`AND EXISTS (SELECT 1 FROM customers sc WHERE sc.workspace_id = ${scope.workspaceId}
    AND sc.id = ${customerIdColumn} AND sc.segment = ${scope.segment})`;
}

const segmentOfCustomers = (scope: KpiScope): RawBuilder<unknown> =>
  scope.segment === undefined ? sql`` : sql`AND c.segment = ${scope.segment}`;

async function one<T>(db: Database, query: RawBuilder<T>): Promise<T> {
  const result = await query.execute(db);
  const row = result.rows[0];
  if (row === undefined) throw new Error('aggregate query returned no row');
  return row;
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** Latest NPS answer per customer in the window: how many answered, promoters (9–10), detractors (0–6). */
export async function npsCounts(db: Database, scope: KpiScope, w: Window) {
  const row = await one(
    db,
    sql<{ answered: number; promoters: number; detractors: number }>`
      SELECT count(*)::int AS answered,
             count(*) FILTER (WHERE score >= 9)::int AS promoters,
             count(*) FILTER (WHERE score <= 6)::int AS detractors
      FROM (
        SELECT DISTINCT ON (e.customer_id) (e.properties ->> 'score')::int AS score
        FROM events e
        WHERE e.workspace_id = ${scope.workspaceId} AND e.type = 'survey_response'
          AND e.properties ->> 'survey' = 'nps'
          AND e.occurred_at >= ${w.from} AND e.occurred_at < ${w.to}
          ${inSegment(scope, sql`e.customer_id`)}
        ORDER BY e.customer_id, e.occurred_at DESC, e.id DESC
      ) latest`,
  );
  return row;
}

/** Every answer of a CES or CSAT survey in the window: count, sum of scores, answers at or above `atLeast`. */
export async function surveyScores(
  db: Database,
  scope: KpiScope,
  w: Window,
  survey: 'ces' | 'csat',
  atLeast: number,
) {
  const row = await one(
    db,
    sql<{ answers: number; total: number | null; high: number }>`
      SELECT count(*)::int AS answers,
             sum((e.properties ->> 'score')::int)::float8 AS total,
             count(*) FILTER (WHERE (e.properties ->> 'score')::int >= ${atLeast})::int AS high
      FROM events e
      WHERE e.workspace_id = ${scope.workspaceId} AND e.type = 'survey_response'
        AND e.properties ->> 'survey' = ${survey}
        AND e.occurred_at >= ${w.from} AND e.occurred_at < ${w.to}
        ${inSegment(scope, sql`e.customer_id`)}`,
  );
  return { answers: row.answers, total: num(row.total) ?? 0, high: row.high };
}

/**
 * Customers active when the window starts, and how many of them cancelled within it. Active at
 * `from`: a first purchase before `from`, and not churned then — churned meaning their latest
 * cancellation before `from` has no purchase or renewal after it (before `from`).
 * "Churned at `from`" is read from the customer_churn_periods rollup: a period open at `from`.
 */
export async function churnCounts(db: Database, scope: KpiScope, w: Window) {
  const ws = scope.workspaceId;
  const churnedAtStart = (customerId: RawBuilder<unknown>) => sql`EXISTS (
    SELECT 1 FROM customer_churn_periods p
    WHERE p.workspace_id = ${ws} AND p.customer_id = ${customerId}
      AND p.started_at < ${w.from} AND (p.ended_at IS NULL OR p.ended_at >= ${w.from}))`;
  const row = await one(
    db,
    sql<{ bought: number; churned: number; cancelled: number }>`
      SELECT
        (SELECT count(*)::int FROM customers c
          WHERE c.workspace_id = ${ws} AND c.first_purchase_at < ${w.from} ${segmentOfCustomers(scope)}) AS bought,
        (SELECT count(*)::int FROM customer_churn_periods p
          WHERE p.workspace_id = ${ws} AND p.started_at < ${w.from} AND (p.ended_at IS NULL OR p.ended_at >= ${w.from})
            ${inSegment(scope, sql`p.customer_id`)}) AS churned,
        (SELECT count(DISTINCT e.customer_id)::int FROM events e
          JOIN customers c ON c.workspace_id = ${ws} AND c.id = e.customer_id
          WHERE e.workspace_id = ${ws} AND e.type = 'cancellation'
            AND e.occurred_at >= ${w.from} AND e.occurred_at < ${w.to}
            AND c.first_purchase_at < ${w.from} ${segmentOfCustomers(scope)}
            AND NOT ${churnedAtStart(sql`e.customer_id`)}) AS cancelled`,
  );
  return { active: row.bought - row.churned, cancelled: row.cancelled };
}

/** Purchases in the workspace currency within the window: revenue, orders, distinct buyers. */
export async function purchaseTotals(db: Database, scope: KpiScope, w: Window) {
  const row = await one(
    db,
    sql<{ revenue: string | null; orders: number; buyers: number }>`
      SELECT sum(e.amount) AS revenue, count(*)::int AS orders, count(DISTINCT e.customer_id)::int AS buyers
      FROM events e
      WHERE e.workspace_id = ${scope.workspaceId} AND e.type = 'purchase' AND e.currency = ${scope.currency}
        AND e.occurred_at >= ${w.from} AND e.occurred_at < ${w.to}
        ${inSegment(scope, sql`e.customer_id`)}`,
  );
  return { revenue: num(row.revenue) ?? 0, orders: row.orders, buyers: row.buyers };
}

/**
 * The cohort of customers who bought in the previous window of equal length: their revenue
 * then, and their revenue in this window.
 */
export async function revenueRetentionTotals(db: Database, scope: KpiScope, w: Window) {
  const previousFrom = new Date(w.from.getTime() - (w.to.getTime() - w.from.getTime()));
  // Both windows aggregated per customer from index-only scans, then hash-joined: probing each
  // cohort customer's timeline instead was a random heap read per customer.
  const perCustomer = (from: Date, to: Date) => sql`
    SELECT e.customer_id, sum(e.amount) AS revenue
    FROM events e
    WHERE e.workspace_id = ${scope.workspaceId} AND e.type = 'purchase' AND e.currency = ${scope.currency}
      AND e.occurred_at >= ${from} AND e.occurred_at < ${to}
      ${inSegment(scope, sql`e.customer_id`)}
    GROUP BY e.customer_id`;
  const row = await one(
    db,
    sql<{ cohort: number; before: string | null; after: string | null }>`
      SELECT count(*)::int AS cohort, sum(p.revenue) AS before, sum(c.revenue) AS after
      FROM (${perCustomer(previousFrom, w.from)}) p
      LEFT JOIN (${perCustomer(w.from, w.to)}) c ON c.customer_id = p.customer_id`,
  );
  return { cohort: row.cohort, before: num(row.before) ?? 0, after: num(row.after) ?? 0 };
}

/**
 * Revenue (workspace currency) of every purchase before `at`, and the customers with a first
 * purchase before `at`. Read from the customers' running totals minus the purchases since `at`,
 * so "as of now" costs a pass over customers, not over every purchase ever.
 */
export async function revenueBefore(db: Database, scope: KpiScope, at: Date) {
  const row = await one(
    db,
    sql<{ total: string | null; since: string | null; buyers: number }>`
      SELECT
        (SELECT sum(c.revenue_total) FROM customers c
          WHERE c.workspace_id = ${scope.workspaceId} AND c.first_purchase_at IS NOT NULL
            ${segmentOfCustomers(scope)}) AS total,
        (SELECT sum(e.amount) FROM events e
          WHERE e.workspace_id = ${scope.workspaceId} AND e.type = 'purchase' AND e.currency = ${scope.currency}
            AND e.occurred_at >= ${at} ${inSegment(scope, sql`e.customer_id`)}) AS since,
        (SELECT count(*)::int FROM customers c
          WHERE c.workspace_id = ${scope.workspaceId} AND c.first_purchase_at < ${at}
            ${segmentOfCustomers(scope)}) AS buyers`,
  );
  return { revenue: (num(row.total) ?? 0) - (num(row.since) ?? 0), buyers: row.buyers };
}

/**
 * Customers who got an upsell offer in the window (sent, or a task completed), and those of
 * them who bought within ATTRIBUTION_DAYS after one of those offers.
 */
export async function upsellCounts(db: Database, scope: KpiScope, w: Window) {
  return one(
    db,
    sql<{ offered: number; converted: number }>`
      SELECT count(DISTINCT t.customer_id)::int AS offered,
             -- Probed in the purchase_categories rollup (every purchase event, narrow): index-only,
             -- where the events timeline needed a heap fetch per row to check the type.
             count(DISTINCT t.customer_id) FILTER (WHERE EXISTS (
               SELECT 1 FROM purchase_categories p
               WHERE p.workspace_id = t.workspace_id AND p.customer_id = t.customer_id
                 AND p.occurred_at > coalesce(t.sent_at, t.completed_at)
                 AND p.occurred_at <= coalesce(t.sent_at, t.completed_at) + make_interval(days => ${ATTRIBUTION_DAYS})
             ))::int AS converted
      FROM touchpoints t
      WHERE t.workspace_id = ${scope.workspaceId}
        AND coalesce(t.sent_at, t.completed_at) >= ${w.from} AND coalesce(t.sent_at, t.completed_at) < ${w.to}
        AND t.template_key ~ ${sql.lit(UPSELL_TEMPLATE_PATTERN)}
        ${inSegment(scope, sql`t.customer_id`)}`,
  );
}

/**
 * Buyers of the window, and those of them who bought, in the window, a product category that
 * their first purchase ever did not have (the first purchase itself does not count).
 */
export async function crossSellCounts(db: Database, scope: KpiScope, w: Window) {
  // The purchase_categories rollup carries, per purchase, whether it adds a category to the
  // customer's first purchase (recomputed by triggers whenever the customer's purchases change):
  // one index-only pass over the window's purchases.
  return one(
    db,
    sql<{ buyers: number; crossers: number }>`
      SELECT count(DISTINCT p.customer_id)::int AS buyers,
             count(DISTINCT p.customer_id) FILTER (WHERE p.adds_category)::int AS crossers
      FROM purchase_categories p
      WHERE p.workspace_id = ${scope.workspaceId}
        AND p.occurred_at >= ${w.from} AND p.occurred_at < ${w.to}
        ${inSegment(scope, sql`p.customer_id`)}`,
  );
}

/**
 * Touchpoints that reached the customer in the window (sent, or task completed): hours from
 * when each became actionable (the later of due and created) to that moment.
 */
export async function responseHours(db: Database, scope: KpiScope, w: Window) {
  const row = await one(
    db,
    sql<{ contacts: number; hours: number | null }>`
      SELECT count(*)::int AS contacts,
             avg(greatest(0, extract(epoch FROM coalesce(t.sent_at, t.completed_at)
                                              - greatest(t.due_at, t.created_at))))::float8 / 3600 AS hours
      FROM touchpoints t
      WHERE t.workspace_id = ${scope.workspaceId}
        AND coalesce(t.sent_at, t.completed_at) >= ${w.from} AND coalesce(t.sent_at, t.completed_at) < ${w.to}
        ${inSegment(scope, sql`t.customer_id`)}`,
  );
  return { count: row.contacts, hours: num(row.hours) };
}

/** Tickets opened in the window that have a first response: mean hours from opening to it. */
export async function firstResponseHours(db: Database, scope: KpiScope, w: Window) {
  const ws = scope.workspaceId;
  const row = await one(
    db,
    sql<{ tickets: number; hours: number | null }>`
      WITH opened AS (
        SELECT e.properties ->> 'ticket_id' AS ticket, min(e.occurred_at) AS opened_at
        FROM events e
        WHERE e.workspace_id = ${ws} AND e.type = 'support_ticket.opened'
          AND e.occurred_at >= ${w.from} AND e.occurred_at < ${w.to}
          ${inSegment(scope, sql`e.customer_id`)}
        GROUP BY 1
      )
      SELECT count(r.at)::int AS tickets,
             avg(greatest(0, extract(epoch FROM r.at - o.opened_at)))::float8 / 3600 AS hours
      FROM opened o
      CROSS JOIN LATERAL (
        SELECT min(x.occurred_at) AS at FROM events x
        WHERE x.workspace_id = ${ws} AND x.type LIKE 'support\\_ticket.%'
          AND x.properties ->> 'ticket_id' = o.ticket AND x.type = 'support_ticket.first_response'
      ) r`,
  );
  return { count: row.tickets, hours: num(row.hours) };
}

/**
 * Tickets with a resolution in the window (and an opening): mean hours from the opening to the
 * latest resolution in the window, and how many were never reopened (before `to`).
 */
export async function resolutionCounts(db: Database, scope: KpiScope, w: Window) {
  const ws = scope.workspaceId;
  const row = await one(
    db,
    sql<{ resolved: number; hours: number | null; retained: number }>`
      WITH resolved AS (
        SELECT e.properties ->> 'ticket_id' AS ticket, max(e.occurred_at) AS resolved_at
        FROM events e
        WHERE e.workspace_id = ${ws} AND e.type = 'support_ticket.resolved'
          AND e.occurred_at >= ${w.from} AND e.occurred_at < ${w.to}
          ${inSegment(scope, sql`e.customer_id`)}
        GROUP BY 1
      )
      SELECT count(*)::int AS resolved,
             avg(greatest(0, extract(epoch FROM r.resolved_at - h.opened_at)))::float8 / 3600 AS hours,
             count(*) FILTER (WHERE NOT h.reopened)::int AS retained
      FROM resolved r
      CROSS JOIN LATERAL (
        SELECT min(x.occurred_at) FILTER (WHERE x.type = 'support_ticket.opened') AS opened_at,
               coalesce(bool_or(x.type = 'support_ticket.reopened'), false) AS reopened
        FROM events x
        WHERE x.workspace_id = ${ws} AND x.type LIKE 'support\\_ticket.%'
          AND x.properties ->> 'ticket_id' = r.ticket AND x.occurred_at < ${w.to}
      ) h
      WHERE h.opened_at IS NOT NULL`,
  );
  return { count: row.resolved, hours: num(row.hours), firstContact: row.retained };
}

/** Purchases in the window followed by a contact: mean hours from the sale to the first contact at or after it. */
export async function leadTimeHours(db: Database, scope: KpiScope, w: Window) {
  // first_contact_at is kept per purchase in the purchase_categories rollup (triggers on events
  // and touchpoints), so the window's purchases are read index-only, not probed one by one.
  const row = await one(
    db,
    sql<{ sales: number; contacted: number; hours: number | null }>`
      SELECT count(*)::int AS sales, count(p.first_contact_at)::int AS contacted,
             avg(extract(epoch FROM p.first_contact_at - p.occurred_at))::float8 / 3600 AS hours
      FROM purchase_categories p
      WHERE p.workspace_id = ${scope.workspaceId}
        AND p.occurred_at >= ${w.from} AND p.occurred_at < ${w.to}
        ${inSegment(scope, sql`p.customer_id`)}`,
  );
  return { sales: row.sales, count: row.contacted, hours: num(row.hours) };
}
