import { type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/client.js';
import { type KpiScope, num, one, type Window } from './metrics.repository.js';

// Sums over a window read from the day rollups purchase_days and contact_days (migration
// 20261207100000): the UTC days the window covers whole from their rows (several per day until
// the worker folds them; a reader sums them all), the partial days at its edges from the source
// rows. Exact: the same rows summed, grouped differently. Whole workspace only: the rollups do not
// carry the customers' current segment.

const DAY_MS = 86_400_000;

/** The window's whole UTC days [from, to) (`from` null: every day before `to`), and its edges outside them. */
export interface DaySplit {
  readonly days: { readonly from: Date | null; readonly to: Date } | null;
  readonly edges: readonly Window[];
}

/** Cuts [from, to) into whole UTC days and the partial days around them; `from` null: from the beginning. */
export function splitByDays(from: Date | null, to: Date): DaySplit {
  const end = new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS);
  const start = from === null ? null : new Date(Math.ceil(from.getTime() / DAY_MS) * DAY_MS);
  if (start !== null && from !== null && start.getTime() >= end.getTime()) {
    return { days: null, edges: from < to ? [{ from, to }] : [] };
  }
  const edges: Window[] = [];
  if (from !== null && start !== null && from < start) edges.push({ from, to: start });
  if (end < to) edges.push({ from: end, to });
  return { days: { from: start, to: end }, edges };
}

const since = (column: RawBuilder<unknown>, from: Date | null): RawBuilder<unknown> =>
  from === null ? sql`` : sql`AND ${column} >= ${from}`;

/** `OR`-free: one index range per edge, glued by UNION ALL (none → an empty set). */
function edgeRows(
  edges: readonly Window[],
  rows: (edge: Window) => RawBuilder<unknown>,
  empty: RawBuilder<unknown>,
): RawBuilder<unknown> {
  if (edges.length === 0) return empty;
  return sql.join(
    edges.map((edge) => rows(edge)),
    sql` UNION ALL `,
  );
}

/** Revenue (workspace currency) of the purchases in [from, to) of the whole workspace; `from` null: every purchase before `to`. */
export async function revenueByDays(
  db: Database,
  scope: KpiScope,
  from: Date | null,
  to: Date,
): Promise<number> {
  const ws = scope.workspaceId;
  const { days, edges } = splitByDays(from, to);
  const none = sql`SELECT NULL::numeric AS amount WHERE false`;
  const dayRows = days
    ? sql`SELECT d.revenue AS amount FROM purchase_days d
          WHERE d.workspace_id = ${ws} AND d.currency = ${scope.currency}
            ${since(sql`d.day`, days.from)} AND d.day < ${days.to}`
    : none;
  const raw = edgeRows(
    edges,
    (edge) => sql`SELECT p.amount FROM purchase_categories p
      WHERE p.workspace_id = ${ws} AND p.currency = ${scope.currency}
        AND p.occurred_at >= ${edge.from} AND p.occurred_at < ${edge.to}`,
    none,
  );
  const row = await one(
    db,
    sql<{ revenue: string | null }>`
      SELECT sum(x.amount) AS revenue FROM (${dayRows} UNION ALL ${raw}) x`,
  );
  return num(row.revenue) ?? 0;
}

/**
 * Touchpoints of the whole workspace that reached the customer in the window, and the mean hours
 * from when each became actionable: response time's `count(*)` and `avg(seconds)`, as a sum of
 * days and edges divided once (numeric, as avg divides).
 */
export async function responseHoursByDays(db: Database, scope: KpiScope, w: Window) {
  const ws = scope.workspaceId;
  const { days, edges } = splitByDays(w.from, w.to);
  const none = sql`SELECT 0::bigint AS contacts, 0::numeric AS seconds WHERE false`;
  const dayRows = days
    ? sql`SELECT d.contacts, d.seconds FROM contact_days d
          WHERE d.workspace_id = ${ws} ${since(sql`d.day`, days.from)} AND d.day < ${days.to}`
    : none;
  const contactAt = sql`coalesce(t.sent_at, t.completed_at)`;
  const raw = edgeRows(
    edges,
    (
      edge,
    ) => sql`SELECT 1::bigint AS contacts, contact_seconds(${contactAt}, t.due_at, t.created_at) AS seconds
      FROM touchpoints t
      WHERE t.workspace_id = ${ws} AND ${contactAt} >= ${edge.from} AND ${contactAt} < ${edge.to}`,
    none,
  );
  const row = await one(
    db,
    sql<{ contacts: string | null; hours: number | null }>`
      SELECT sum(x.contacts) AS contacts,
             (sum(x.seconds) / nullif(sum(x.contacts), 0))::float8 / 3600 AS hours
      FROM (${dayRows} UNION ALL ${raw}) x`,
  );
  return { count: num(row.contacts) ?? 0, hours: num(row.hours) };
}

/** Replaces each day's delta rows by their sum (fold_metric_days()); answers how many rows it removed. */
export async function foldMetricDays(db: Database): Promise<number> {
  const result = await sql<{ removed: string }>`SELECT fold_metric_days() AS removed`.execute(db);
  return Number(result.rows[0]?.removed ?? 0);
}
