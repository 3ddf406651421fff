// The floor of the ingest benchmark: the least a server must do to take events over HTTP
// into Postgres idempotently. One `INSERT … ON CONFLICT DO NOTHING` per event, one
// multi-row INSERT per batch; no auth, no validation, no customer. Run by ingest.ts.
import Fastify from 'fastify';
import pg from 'pg';

const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
if (!databaseUrl || !port) throw new Error('DATABASE_URL and PORT are required');

// The same pool size as the service's, so both get the same database concurrency.
const pool = new pg.Pool({ connectionString: databaseUrl, max: 20 });
await pool.query(`CREATE TABLE IF NOT EXISTS floor_events (
  workspace_id uuid NOT NULL, external_id text NOT NULL, body jsonb NOT NULL,
  PRIMARY KEY (workspace_id, external_id))`);
const WORKSPACE = '00000000-0000-7000-8000-000000000001';

interface Posted {
  readonly id: string;
}

const app = Fastify({ bodyLimit: 1024 * 1024 });
app.get('/ready', async () => ({ ok: true }));
app.post<{ Body: Posted }>('/v1/events', async (request, reply) => {
  const result = await pool.query(
    'INSERT INTO floor_events (workspace_id, external_id, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [WORKSPACE, request.body.id, request.body],
  );
  reply.code(result.rowCount === 1 ? 202 : 200);
  return { id: request.body.id, status: result.rowCount === 1 ? 'accepted' : 'duplicate' };
});
app.post<{ Body: { events: Posted[] } }>('/v1/events/batch', async (request) => {
  const events = request.body.events;
  const result = await pool.query<{ external_id: string }>(
    `INSERT INTO floor_events (workspace_id, external_id, body)
     SELECT $1, e.id, e.body FROM unnest($2::text[], $3::jsonb[]) AS e(id, body)
     ON CONFLICT DO NOTHING RETURNING external_id`,
    [WORKSPACE, events.map((e) => e.id), events.map((e) => JSON.stringify(e))],
  );
  const inserted = new Set(result.rows.map((row) => row.external_id));
  return {
    results: events.map((e) => ({ id: e.id, status: inserted.has(e.id) ? 'accepted' : 'duplicate' })),
  };
});

await app.listen({ port, host: '127.0.0.1' });
const stop = async () => {
  await app.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
