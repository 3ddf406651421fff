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

/**
 * `AND <customer id> is in the segment`, or nothing without a segment. A semi-join against the
 * segment's customer ids (index-only in customers_segment_members_idx, hashed once per query), not
 * a look-up of each row's customer.
 */
export function inSegment(scope: KpiScope, customerIdColumn: RawBuilder<unknown>): RawBuilder<unknown> {
  if (scope.segment === undefined) return sql``;
  return sql`AND ${customerIdColumn} IN (SELECT sc.id FROM customers sc
    WHERE sc.workspace_id = ${scope.workspaceId} AND sc.segment = ${scope.segment})`;
}

export const segmentOfCustomers = (scope: KpiScope): RawBuilder<unknown> =>
  scope.segment === undefined ? sql`` : sql`AND c.segment = ${scope.segment}`;

export async function one<T>(db: Database, query: RawBuilder<T>): Promise<T> {
  const result = await query.execute(db);
  const row = result.rows[0];
  if (row === undefined) throw new Error('aggregate query returned no row');
  return row;
}

export const num = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

/** Latest NPS answer per customer in the window: how many answered, promoters (9–10), detractors (0–6). */
export async function npsCounts(db: Database, scope: KpiScope, w: Window) {
  // Read from the survey_answers rollup (one narrow row per answer, kept by triggers on events):
  // index-only, no jsonb fetched from the events heap.
  const row = await one(
    db,
    sql<{ answered: number; promoters: number; detractors: number }>`
      SELECT count(*)::int AS answered,
             count(*) FILTER (WHERE score >= 9)::int AS promoters,
             count(*) FILTER (WHERE score <= 6)::int AS detractors
      FROM (
        SELECT DISTINCT ON (a.customer_id) a.score
        FROM survey_answers a
        WHERE a.workspace_id = ${scope.workspaceId} AND a.survey = 'nps'
          AND a.occurred_at >= ${w.from} AND a.occurred_at < ${w.to}
          ${inSegment(scope, sql`a.customer_id`)}
        ORDER BY a.customer_id, a.occurred_at DESC, a.event_id DESC
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
             sum(a.score)::float8 AS total,
             count(*) FILTER (WHERE a.score >= ${atLeast})::int AS high
      FROM survey_answers a
      WHERE a.workspace_id = ${scope.workspaceId} AND a.survey = ${survey}
        AND a.occurred_at >= ${w.from} AND a.occurred_at < ${w.to}
        ${inSegment(scope, sql`a.customer_id`)}`,
  );
  return { answers: row.answers, total: num(row.total) ?? 0, high: row.high };
}

/**
 * Customers who got an upsell offer in the window (sent, or a task completed), and those of
 * them who bought within ATTRIBUTION_DAYS after one of those offers.
 */
export async function upsellCounts(db: Database, scope: KpiScope, w: Window) {
  const ws = scope.workspaceId;
  const attribution = sql`make_interval(days => ${ATTRIBUTION_DAYS})`;
  // Conversions by a join, not a probe per offer: the purchases between the first offer and 14
  // days after the last (index-only in the purchase_categories rollup) hash-joined to the offers
  // by customer.
  return one(
    db,
    sql<{ offered: number; converted: number }>`
      WITH offers AS MATERIALIZED (
        SELECT t.customer_id, coalesce(t.sent_at, t.completed_at) AS at
        FROM touchpoints t
        WHERE t.workspace_id = ${ws}
          AND coalesce(t.sent_at, t.completed_at) >= ${w.from} AND coalesce(t.sent_at, t.completed_at) < ${w.to}
          AND t.template_key ~ ${sql.lit(UPSELL_TEMPLATE_PATTERN)}
          ${inSegment(scope, sql`t.customer_id`)}
      )
      SELECT
        (SELECT count(DISTINCT customer_id)::int FROM offers) AS offered,
        (SELECT count(DISTINCT o.customer_id)::int
         FROM offers o
         JOIN purchase_categories p ON p.workspace_id = ${ws} AND p.customer_id = o.customer_id
           AND p.occurred_at > o.at AND p.occurred_at <= o.at + ${attribution}
         WHERE p.occurred_at > (SELECT min(at) FROM offers)
           AND p.occurred_at <= (SELECT max(at) FROM offers) + ${attribution}) AS converted`,
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

// The ticket KPIs read the ticket_events rollup (one narrow row per support_ticket.* event, kept
// by triggers on events), index-only: each row carries its ticket's first opening, first response
// and first reopening (migration 20261207120000), so a window's tickets need no look-up each.

/** Tickets opened in the window that have a first response: mean hours from opening to it. */
export async function firstResponseHours(db: Database, scope: KpiScope, w: Window) {
  const ws = scope.workspaceId;
  const row = await one(
    db,
    sql<{ tickets: number; hours: number | null }>`
      WITH opened AS (
        SELECT k.ticket_id AS ticket, min(k.occurred_at) AS opened_at, min(k.ticket_first_response_at) AS response_at
        FROM ticket_events k
        WHERE k.workspace_id = ${ws} AND k.type = 'support_ticket.opened'
          AND k.occurred_at >= ${w.from} AND k.occurred_at < ${w.to}
          ${inSegment(scope, sql`k.customer_id`)}
        GROUP BY 1
      )
      SELECT count(o.response_at)::int AS tickets,
             avg(greatest(0, extract(epoch FROM o.response_at - o.opened_at)))
               FILTER (WHERE o.response_at IS NOT NULL)::float8 / 3600 AS hours
      FROM opened o`,
  );
  return { count: row.tickets, hours: num(row.hours) };
}

/**
 * Tickets with a resolution in the window (and an opening): mean hours from the opening to the
 * latest resolution in the window, and how many were never reopened (before `to`). The ticket's
 * opening before `to` is its first opening when that is before `to`; it was reopened before `to`
 * when its first reopening is.
 */
export async function resolutionCounts(db: Database, scope: KpiScope, w: Window) {
  const ws = scope.workspaceId;
  const row = await one(
    db,
    sql<{ resolved: number; hours: number | null; retained: number }>`
      WITH resolved AS (
        SELECT k.ticket_id AS ticket, max(k.occurred_at) AS resolved_at, min(k.ticket_opened_at) AS opened_at,
               min(k.ticket_reopened_at) AS reopened_at
        FROM ticket_events k
        WHERE k.workspace_id = ${ws} AND k.type = 'support_ticket.resolved'
          AND k.occurred_at >= ${w.from} AND k.occurred_at < ${w.to}
          ${inSegment(scope, sql`k.customer_id`)}
        GROUP BY 1
      )
      SELECT count(*)::int AS resolved,
             avg(greatest(0, extract(epoch FROM r.resolved_at - r.opened_at)))::float8 / 3600 AS hours,
             count(*) FILTER (WHERE r.reopened_at IS NULL OR r.reopened_at >= ${w.to})::int AS retained
      FROM resolved r
      WHERE r.opened_at < ${w.to}`,
  );
  return { count: row.resolved, hours: num(row.hours), firstContact: row.retained };
}
