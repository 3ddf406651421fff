import { sql } from 'kysely';

/**
 * `status IN (…)` as a filter on a row already found by its key. Statements that address one
 * touchpoint by (workspace_id, id) also check its status; written plainly, the planner may
 * answer them from touchpoints_calendar_idx (workspace_id, status, due_at) instead of the
 * primary key — in its statistics `queued` and `sending` are rare, as they are between
 * bursts — and then walk every touchpoint of the workspace in that status, so that each
 * statement of a backlog costs as much as the backlog. A condition no index can answer keeps
 * the look-up on the key.
 */
export function statusIn(statuses: readonly string[]) {
  return sql<boolean>`(status = ANY(${[...statuses]}::text[])) IS TRUE`;
}
