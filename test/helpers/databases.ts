import pg from 'pg';

/** The same server as `url`, another database. */
export function databaseUrlFor(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
}

export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A client on the server's `postgres` database, for CREATE/DROP DATABASE. */
export async function adminConnection(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrlFor(url, 'postgres') });
  await client.connect();
  return client;
}

export async function dropDatabase(url: string, database: string): Promise<void> {
  const admin = await adminConnection(url);
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** A fresh, empty database name on the test server (not created). */
export function scratchDatabaseName(tag: string): string {
  return `posvenda_${tag}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
