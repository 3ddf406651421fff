import { sql } from 'kysely';
import type { Database } from '../../db/client.js';
import { ATTRIBUTION_DAYS, type Window } from './metrics.repository.js';

export const GROUP_FIELDS = ['playbook', 'step', 'variant', 'channel'] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];

const COLUMNS: Readonly<Record<GroupField, string>> = {
  playbook: 'playbook_key',
  step: 'step_key',
  variant: 'variant',
  channel: 'channel',
};

export interface TouchpointCounts {
  readonly group: Readonly<Partial<Record<GroupField, string | null>>>;
  readonly planned: number;
  readonly sent: number;
  readonly delivered: number;
  readonly opened: number;
  readonly clicked: number;
  readonly answered: number;
  readonly converted: number;
  readonly skipped: number;
  readonly failed: number;
}

/**
 * Touchpoints due in the window, counted per group. `sent` = reached the customer (sent, or a
 * task completed); `converted` = the customer bought within ATTRIBUTION_DAYS after that moment,
 * decided now from the purchase events (not a stored flag), so late purchases count.
 */
export async function touchpointCounts(
  db: Database,
  workspaceId: string,
  w: Window,
  groupBy: readonly GroupField[],
  playbook?: string,
): Promise<TouchpointCounts[]> {
  const columns = groupBy.map((field) => sql`tp.${sql.ref(COLUMNS[field])} AS ${sql.ref(field)}`);
  const select = columns.length > 0 ? sql`${sql.join(columns)},` : sql``;
  const groupClause =
    groupBy.length > 0
      ? sql`GROUP BY ${sql.join(groupBy.map((field) => sql.ref(`tp.${COLUMNS[field]}`)))}`
      : sql``;
  const orderClause =
    groupBy.length > 0
      ? sql`ORDER BY ${sql.join(groupBy.map((field) => sql`${sql.ref(field)} NULLS LAST`))}`
      : sql``;
  const attribution = sql`make_interval(days => ${ATTRIBUTION_DAYS})`;
  // Conversions by a join, not a probe per touchpoint: the purchases between the first contact
  // and 14 days after the last one (index-only in the purchase_categories rollup) hash-joined to
  // the window's touchpoints by customer.
  const result = await sql<Record<string, string | number | null>>`
    WITH tp AS MATERIALIZED (
      SELECT t.id, t.customer_id, t.playbook_key, t.step_key, t.variant, t.channel, t.status,
             t.delivered_at, t.opened_at, t.clicked_at, t.answered_at,
             coalesce(t.sent_at, t.completed_at) AS contact_at
      FROM touchpoints t
      WHERE t.workspace_id = ${workspaceId} AND t.due_at >= ${w.from} AND t.due_at < ${w.to}
        ${playbook === undefined ? sql`` : sql`AND t.playbook_key = ${playbook}`}
    ),
    converted AS (
      SELECT DISTINCT tp.id
      FROM tp
      JOIN purchase_categories p ON p.workspace_id = ${workspaceId} AND p.customer_id = tp.customer_id
        AND p.occurred_at > tp.contact_at AND p.occurred_at <= tp.contact_at + ${attribution}
      WHERE p.occurred_at > (SELECT min(contact_at) FROM tp)
        AND p.occurred_at <= (SELECT max(contact_at) FROM tp) + ${attribution}
    )
    SELECT ${select}
      count(*)::int AS planned,
      count(tp.contact_at)::int AS sent,
      count(tp.delivered_at)::int AS delivered,
      count(tp.opened_at)::int AS opened,
      count(tp.clicked_at)::int AS clicked,
      count(tp.answered_at)::int AS answered,
      count(c.id)::int AS converted,
      count(*) FILTER (WHERE tp.status = 'skipped')::int AS skipped,
      count(*) FILTER (WHERE tp.status = 'failed')::int AS failed
    FROM tp
    LEFT JOIN converted c ON c.id = tp.id
    ${groupClause}
    ${orderClause}
    LIMIT 5000`.execute(db);
  return result.rows.map((row) => ({
    group: Object.fromEntries(groupBy.map((field) => [field, (row[field] as string | null) ?? null])),
    planned: Number(row.planned),
    sent: Number(row.sent),
    delivered: Number(row.delivered),
    opened: Number(row.opened),
    clicked: Number(row.clicked),
    answered: Number(row.answered),
    converted: Number(row.converted),
    skipped: Number(row.skipped),
    failed: Number(row.failed),
  }));
}
