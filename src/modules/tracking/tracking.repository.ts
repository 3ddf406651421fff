import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

type Db = Kysely<DB> | Transaction<DB>;

/** What tracking records on a touchpoint; each is the first time it happened. */
export type Engagement = 'delivered' | 'opened' | 'clicked' | 'answered' | 'unsubscribed';

const COLUMN = {
  delivered: 'delivered_at',
  opened: 'opened_at',
  clicked: 'clicked_at',
  answered: 'answered_at',
  unsubscribed: 'unsubscribed_at',
} as const satisfies Record<Engagement, string>;

/**
 * Records engagement on a touchpoint, keeping the first time of each: one statement, so two
 * clicks at once both leave the earliest time and neither fails. A row where every mark is
 * already set is not written at all (no update churn from repeated opens).
 */
export async function recordEngagement(
  db: Db,
  workspaceId: string,
  touchpointId: string,
  marks: readonly Engagement[],
  now: Date,
): Promise<void> {
  if (marks.length === 0) return;
  const columns = [...new Set(marks)].map((mark) => sql.ref(COLUMN[mark]));
  const sets = columns.map((column) => sql`${column} = coalesce(${column}, ${now})`);
  const unset = columns.map((column) => sql`${column} IS NULL`);
  await sql`
    UPDATE touchpoints SET ${sql.join(sets)}, updated_at = ${now}
    WHERE workspace_id = ${workspaceId} AND id = ${touchpointId} AND (${sql.join(unset, sql` OR `)})`.execute(
    db,
  );
}

/** A touchpoint reached through a tracking link, with what its pages and surveys need. */
export interface TrackedTouchpoint {
  readonly id: string;
  readonly templateKey: string;
  readonly templateFamily: string | null;
  readonly answeredAt: Date | null;
  readonly customerExternalId: string;
  readonly customerErasedAt: Date | null;
  readonly customerLocale: string | null;
  readonly customerConsent: unknown;
  readonly workspaceName: string;
  readonly workspaceLocale: string;
}

/** The touchpoint of a tracking link, its customer and workspace; undefined when gone. */
export async function findTrackedTouchpoint(
  db: Db,
  workspaceId: string,
  touchpointId: string,
): Promise<TrackedTouchpoint | undefined> {
  return (
    db
      .selectFrom('touchpoints as t')
      .innerJoin('customers as c', (join) =>
        join.onRef('c.workspaceId', '=', 't.workspaceId').onRef('c.id', '=', 't.customerId'),
      )
      .innerJoin('workspaces as w', 'w.id', 't.workspaceId')
      // The live template of the step's key, for its family (the survey kind may be named there).
      .leftJoin('templates as tpl', (join) =>
        join
          .onRef('tpl.workspaceId', '=', 't.workspaceId')
          .onRef('tpl.key', '=', 't.templateKey')
          .on('tpl.deletedAt', 'is', null),
      )
      .select([
        't.id',
        't.templateKey',
        'tpl.family as templateFamily',
        't.answeredAt',
        'c.externalId as customerExternalId',
        'c.erasedAt as customerErasedAt',
        'c.locale as customerLocale',
        'c.consent as customerConsent',
        'w.name as workspaceName',
        'w.locale as workspaceLocale',
      ])
      .where('t.workspaceId', '=', workspaceId)
      .where('t.id', '=', touchpointId)
      .executeTakeFirst()
  );
}
