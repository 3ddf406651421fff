import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrlFor, dropDatabase, scratchDatabaseName } from './helpers/databases.js';
import { spawnMain, waitFor } from './helpers/process.js';
import { testEnv } from './helpers/test-env.js';

const created: string[] = [];
function freshDatabaseUrl(tag: string): string {
  const name = scratchDatabaseName(tag);
  created.push(name);
  return databaseUrlFor(testEnv().serverUrl, name);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

afterAll(async () => {
  for (const name of created) await dropDatabase(testEnv().serverUrl, name);
});

describe('posvenda command line', () => {
  it('`migrate` creates a missing database, applies the migrations, and is a no-op the second time', async () => {
    const env = { DATABASE_URL: freshDatabaseUrl('migrate'), REDIS_URL: testEnv().redisUrl };
    const first = spawnMain('migrate', env);
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('migration applied: 20261123150000_workspaces_and_api_keys');
    const second = spawnMain('migrate', env);
    expect(await second.exited).toBe(0);
    expect(second.stdout()).not.toContain('migration applied');
  });

  it('several replicas migrating at once apply each migration exactly once', async () => {
    const env = { DATABASE_URL: freshDatabaseUrl('race'), REDIS_URL: testEnv().redisUrl };
    const runs = [1, 2, 3].map(() => spawnMain('migrate', env));
    const codes = await Promise.all(runs.map((run) => run.exited));
    expect(codes, runs.map((run) => run.stderr()).join('\n')).toEqual([0, 0, 0]);
    const applied = runs.map(
      (run) => (run.stdout().match(/migration applied: 20261123150000/g) ?? []).length,
    );
    expect(applied.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('a failing migration exits 1 and names the migration', async () => {
    const url = freshDatabaseUrl('broken');
    const pg = await import('pg');
    const { ensureDatabase } = await import('../src/db/client.js');
    await ensureDatabase(url);
    const client = new pg.default.Client({ connectionString: url });
    await client.connect();
    // A table in the way makes the first migration fail.
    await client.query('CREATE TABLE workspaces (x int)');
    await client.end();
    const run = spawnMain('migrate', { DATABASE_URL: url, REDIS_URL: testEnv().redisUrl });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/migration 20261123150000_workspaces_and_api_keys failed: .*already exists/);
  });

  it('an unreachable database makes `migrate` exit 1 with the reason', async () => {
    const run = spawnMain('migrate', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('cannot prepare the database');
  });

  it('bad configuration stops the process with exit 1, naming each variable', async () => {
    const run = spawnMain('api', { PORT: 'abc', LOG_LEVEL: 'chatty' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('invalid configuration');
    expect(run.stderr()).toContain('PORT: must be an integer from 0 to 65535 (got "abc")');
    expect(run.stderr()).toContain('LOG_LEVEL: must be one of');
  });

  it('an unknown command exits 1', async () => {
    const run = spawnMain('serve', {});
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('unknown command "serve"');
  });

  it('`all` starts on a bare database, prints the first admin key, serves, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const run = spawnMain('all', {
      DATABASE_URL: freshDatabaseUrl('all'),
      REDIS_URL: testEnv().redisUrl,
      QUEUE_PREFIX: testEnv().prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    try {
      const key = await waitFor(
        async () => /\n\s+(pv_[A-Za-z0-9_-]+)\n/.exec(run.stdout())?.[1],
        60_000,
        'the admin key to be printed',
      );
      await waitFor(
        async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined),
        60_000,
        '/readyz 200',
      );
      const response = await fetch(`http://127.0.0.1:${port}/v1/workspaces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Loja' }),
      });
      expect(response.status).toBe(201);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.stdout()).toContain('"msg":"stopped"');
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 150_000);
  it('`worker` serves health and Prometheus metrics (dispatch lag and outcomes) on PORT, and no API', async () => {
    const port = await freePort();
    const run = spawnMain('worker', {
      DATABASE_URL: freshDatabaseUrl('worker'),
      REDIS_URL: testEnv().redisUrl,
      QUEUE_PREFIX: testEnv().prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    try {
      await waitFor(
        async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined),
        60_000,
        "the worker's /readyz 200",
      );
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('# TYPE posvenda_dispatch_lag_seconds histogram');
      expect(metrics).toContain('# TYPE posvenda_dispatch_outcomes_total counter');
      expect(metrics).toMatch(/posvenda_queue_jobs\{queue="dispatch",state="waiting"\} \d+/);
      expect((await fetch(`http://127.0.0.1:${port}/v1/workspaces`)).status).toBe(404);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 150_000);
});
