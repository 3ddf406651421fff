import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

type Db = Kysely<DB> | Transaction<DB>;

/** The workspace's feed generation, creating the feed row on first use. */
export async function ensureFeedGeneration(db: Db, workspaceId: string, now: Date): Promise<number> {
  // The no-op update makes RETURNING answer on conflict too, in one round trip.
  const row = await db
    .insertInto('calendarFeeds')
    .values({ workspaceId, createdAt: now })
    .onConflict((oc) => oc.column('workspaceId').doUpdateSet({ generation: sql`calendar_feeds.generation` }))
    .returning('generation')
    .executeTakeFirstOrThrow();
  return row.generation;
}

/** Bumps the workspace's feed generation, revoking every feed URL given before. */
export async function rotateFeedGeneration(db: Db, workspaceId: string, now: Date): Promise<number> {
  const row = await db
    .insertInto('calendarFeeds')
    .values({ workspaceId, generation: 2, createdAt: now })
    .onConflict((oc) =>
      oc.column('workspaceId').doUpdateSet({ generation: sql`calendar_feeds.generation + 1` }),
    )
    .returning('generation')
    .executeTakeFirstOrThrow();
  return row.generation;
}

/** The workspace's feed generation; undefined when no feed URL was ever given out. */
export async function findFeedGeneration(db: Db, workspaceId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('calendarFeeds')
    .select('generation')
    .where('workspaceId', '=', workspaceId)
    .executeTakeFirst();
  return row?.generation;
}
