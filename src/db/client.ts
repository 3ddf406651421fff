import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { prepareStatements } from './prepared-statements.js';
import type { DB } from './types.js';

export type Database = Kysely<DB>;

// bigint (int8) and numeric come back as strings by default; counts and sums we keep
// in int8 never exceed 2^53, so parse them as numbers. numeric (money) stays a string
// and is converted where it is read, to keep exact decimals until then.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export interface DbOptions {
  readonly maxConnections?: number;
  readonly applicationName?: string;
}

/** Creates the Kysely client over a pg pool for one database URL. */
export function createDb(databaseUrl: string, options: DbOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.maxConnections ?? 20,
    application_name: options.applicationName ?? 'posvenda',
    // Fail fast when Postgres is unreachable, so requests answer 503 instead of hanging.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor one checked out between two statements (a transaction waiting on the planner): its
  // next statement fails instead, and the request answers 503.
  // Every client names Kysely's statements, so Postgres parses and plans them once per connection.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    prepareStatements(client);
  });
  // Column names are camel-cased; the keys inside jsonb values are data (event properties,
  // settings) and must come back exactly as stored.
  return new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
  });
}

/**
 * Creates the database named in the URL when it does not exist, connecting to the
 * server's `postgres` database to do so. Safe when several processes race to do it.
 */
export async function ensureDatabase(databaseUrl: string): Promise<'created' | 'exists'> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const probe = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    return 'exists';
  } catch (error) {
    if (pgErrorCode(error) !== '3D000') throw error; // 3D000: invalid_catalog_name
  } finally {
    await probe.end().catch(() => {});
  }
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    // Replicas starting together race here: one creates the database, the others see it
    // exists (42P04, or 23505 when both inserted the catalog row at once) or find the
    // template database busy with the other creation (55006) and retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
        return 'created';
      } catch (error) {
        const code = pgErrorCode(error);
        if (code === '42P04' || code === '23505') return 'exists';
        if (code !== '55006' || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
      }
    }
  } finally {
    await admin.end().catch(() => {});
  }
}

/** The SQLSTATE of a pg error, if it is one. */
export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/** True when Postgres rejected a write for a unique constraint (optionally a named one). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (pgErrorCode(error) !== '23505') return false;
  return constraint === undefined || (error as { constraint?: string }).constraint === constraint;
}

/** True for errors that mean Postgres could not be reached, is overloaded or is shutting down. */
export function isConnectionError(error: unknown): boolean {
  const code = pgErrorCode(error);
  // Socket errors (ECONNREFUSED…), connection exceptions (08), missing database (3D000),
  // insufficient resources such as too many connections (53), shutdown (57P0x).
  if (
    code !== undefined &&
    /^(ECONN|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|EAI_AGAIN|EPIPE|08|3D000|53|57P0)/.test(code)
  ) {
    return true;
  }
  // pg-pool's own errors carry no code.
  return (
    error instanceof Error &&
    /timeout exceeded when trying to connect|Connection terminated|Client was closed and is not queryable/.test(
      error.message,
    )
  );
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
