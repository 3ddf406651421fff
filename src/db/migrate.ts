import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Migration, type MigrationProvider, type MigrationResult, Migrator, sql } from 'kysely';
import type { Database } from './client.js';

/** The repository's `migrations/` folder, found from this file in both src/ and dist/. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

const FILE_NAME = /^\d{14}_[a-z0-9_]+\.sql$/;

/** Serves `YYYYMMDDHHMMSS_what.sql` files as Kysely migrations; each runs in one transaction. */
export class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of (await readdir(this.folder)).sort()) {
      if (!file.endsWith('.sql')) continue;
      if (!FILE_NAME.test(file))
        throw new Error(`migration file name not in YYYYMMDDHHMMSS_what.sql form: ${file}`);
      const text = await readFile(path.join(this.folder, file), 'utf8');
      migrations[file.replace(/\.sql$/, '')] = {
        up: async (db) => {
          await sql.raw(text).execute(db);
        },
      };
    }
    return migrations;
  }
}

export interface MigrateOutcome {
  readonly applied: readonly string[];
  readonly error: unknown;
  readonly failed: string | undefined;
}

/**
 * Applies pending migrations under Kysely's lock (a Postgres advisory lock), so several
 * replicas starting together apply each migration once. Returns rather than throws.
 */
export async function migrateToLatest(
  db: Database,
  folder: string = MIGRATIONS_DIR,
): Promise<MigrateOutcome> {
  const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider(folder) });
  const { error, results } = await migrator.migrateToLatest();
  const list: readonly MigrationResult[] = results ?? [];
  return {
    applied: list.filter((r) => r.status === 'Success').map((r) => r.migrationName),
    failed: list.find((r) => r.status === 'Error')?.migrationName,
    error,
  };
}
