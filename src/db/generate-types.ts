// `npm run db:types`: regenerates src/db/types.ts from the migrations, against a scratch
// database on the server of DATABASE_URL. `-- --verify` fails when the file is stale.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../config.js';
import { createDb, ensureDatabase } from './client.js';
import { migrateToLatest } from './migrate.js';

const loaded = loadConfig(process.env);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const base = new URL(loaded.config.databaseUrl);
const scratch = new URL(base);
scratch.pathname = `/posvenda_codegen_${process.pid}`;
const outFile = fileURLToPath(new URL('./types.ts', import.meta.url));

await ensureDatabase(scratch.toString());
const db = createDb(scratch.toString(), { maxConnections: 2 });
let status = 0;
try {
  const outcome = await migrateToLatest(db);
  if (outcome.error) throw outcome.error;
  execFileSync(
    'npx',
    [
      'kysely-codegen',
      '--dialect=postgres',
      '--camel-case',
      `--url=${scratch.toString()}`,
      `--out-file=${outFile}`,
      '--exclude-pattern=kysely_*',
      '--type-mapping={"int8":"number"}',
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  status = 1;
} finally {
  await db.destroy();
  const admin = new pg.Client({ connectionString: new URL('/postgres', base).toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${scratch.pathname.slice(1)}"`);
  await admin.end();
}
process.exit(status);
