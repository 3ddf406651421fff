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
  const columns = groupBy.map((field) => sql`t.${sql.ref(COLUMNS[field])} AS ${sql.ref(field)}`);
  const select = columns.length > 0 ? sql`${sql.join(columns)},` : sql``;
  const groupClause =
    groupBy.length > 0
      ? sql`GROUP BY ${sql.join(groupBy.map((field) => sql.ref(`t.${COLUMNS[field]}`)))}`
      : sql``;
  const orderClause =
    groupBy.length > 0
      ? sql`ORDER BY ${sql.join(groupBy.map((field) => sql`${sql.ref(field)} NULLS LAST`))}`
      : sql``;
  const result = await sql<Record<string, string | number | null>>`
    SELECT ${select}
      count(*)::int AS planned,
      count(coalesce(t.sent_at, t.completed_at))::int AS sent,
      count(t.delivered_at)::int AS delivered,
      count(t.opened_at)::int AS opened,
      count(t.clicked_at)::int AS clicked,
      count(t.answered_at)::int AS answered,
      count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM events e
        WHERE e.workspace_id = t.workspace_id AND e.customer_id = t.customer_id AND e.type = 'purchase'
          AND e.occurred_at > coalesce(t.sent_at, t.completed_at)
          AND e.occurred_at <= coalesce(t.sent_at, t.completed_at) + make_interval(days => ${ATTRIBUTION_DAYS})
      ))::int AS converted,
      count(*) FILTER (WHERE t.status = 'skipped')::int AS skipped,
      count(*) FILTER (WHERE t.status = 'failed')::int AS failed
    FROM touchpoints t
    WHERE t.workspace_id = ${workspaceId} AND t.due_at >= ${w.from} AND t.due_at < ${w.to}
      ${playbook === undefined ? sql`` : sql`AND t.playbook_key = ${playbook}`}
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
