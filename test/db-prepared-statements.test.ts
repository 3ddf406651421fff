// Kysely's statements go to Postgres as named prepared statements (src/db/prepared-statements.ts).
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client.js';
import { statementName } from '../src/db/prepared-statements.js';
import { testEnv } from './helpers/test-env.js';

// One connection, so every statement of a test meets the same session's prepared statements.
interface ProbeDb {
  prepared_probe: { id: number; label: string; extra?: string };
}
let db: Kysely<ProbeDb>;

beforeAll(async () => {
  db = createDb(testEnv().databaseUrl, { maxConnections: 1 }) as unknown as Kysely<ProbeDb>;
  await sql`CREATE TABLE prepared_probe (id int PRIMARY KEY, label text)`.execute(db);
  await sql`INSERT INTO prepared_probe VALUES (1, 'one'), (2, 'two')`.execute(db);
});
afterAll(async () => {
  await sql`DROP TABLE IF EXISTS prepared_probe`.execute(db);
  await db.destroy();
});

const prepared = () =>
  sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements`
    .execute(db)
    .then((r) => r.rows);

describe('prepared statements', () => {
  it('a data statement is prepared once per connection under one name and reused', async () => {
    const query = () => db.selectFrom('prepared_probe').select('label').where('id', '=', 2).execute();
    expect(await query()).toEqual([{ label: 'two' }]);
    expect(await query()).toEqual([{ label: 'two' }]);
    const probes = (await prepared()).filter((p) =>
      p.statement.startsWith('select "label" from "prepared_probe"'),
    );
    expect(probes).toHaveLength(1);
    expect(probes[0]!.name).toMatch(/^pv\d+$/);
  });

  it('the same text gets the same name; other texts, other names', () => {
    const text = 'select "a" from "t" where "id" = $1';
    const name = statementName(text, 1);
    expect(name).toBeDefined();
    expect(statementName(text, 1)).toBe(name);
    expect(statementName('select "b" from "t" where "id" = $1', 1)).not.toBe(name);
  });

  it('statements that are not single data statements, or take many parameters, go unnamed', () => {
    expect(statementName('begin', 0)).toBeUndefined();
    expect(statementName('SET LOCAL statement_timeout = 1000', 0)).toBeUndefined();
    expect(statementName('select 1; select 2', 0)).toBeUndefined();
    const many = Array.from({ length: 65 }, (_, i) => `$${i + 1}`).join(', ');
    expect(statementName(`select * from "t" where "id" in (${many})`, 65)).toBeUndefined();
  });

  it('a table changing shape under a prepared `select *` fails at most once, then reads the new shape', async () => {
    const query = () => db.selectFrom('prepared_probe').selectAll().where('id', '=', 1).execute();
    expect(await query()).toEqual([{ id: 1, label: 'one' }]);
    await sql`ALTER TABLE prepared_probe ADD COLUMN extra text DEFAULT 'x'`.execute(db);
    // Postgres refuses a cached plan whose result columns changed (0A000); the next call parses again.
    const first = await query().catch((error: { code?: string }) => error);
    if (!Array.isArray(first)) expect(first.code).toBe('0A000');
    expect(await query()).toEqual([{ id: 1, label: 'one', extra: 'x' }]);
  });
});
