import { randomBytes } from 'node:crypto';
import type { Database } from './client.js';

/**
 * Returns the instance secret called `name`, generating and storing it on first use. Stored
 * in Postgres so every replica and every restart gets the same value; the first writer wins.
 */
export async function loadOrCreateInstanceSecret(db: Database, name: string, now: Date): Promise<string> {
  await db
    .insertInto('instanceSecrets')
    .values({ name, value: randomBytes(32).toString('base64url'), createdAt: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('instanceSecrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.value;
}
