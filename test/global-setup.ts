// Runs once per `npm test`: finds Postgres and Redis (DATABASE_URL/REDIS_URL or the local
// defaults; testcontainers only when they are unreachable and a Docker engine exists) and
// builds a migrated template database that each test file clones.
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config.js';
import { createDb, ensureDatabase } from '../src/db/client.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createRedis, pingRedis } from '../src/queue/redis.js';
import { adminConnection, canConnect, databaseUrlFor } from './helpers/databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    templateDatabase: string;
  }
}

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function redisReachable(url: string): Promise<boolean> {
  const redis = createRedis(url, 'producer');
  try {
    await redis.connect();
    return await pingRedis(redis);
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export default async function setup(project: TestProject) {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  let { databaseUrl, redisUrl } = loaded.config;
  const stops: (() => Promise<unknown>)[] = [];

  if (!(await canConnect(databaseUrlFor(databaseUrl, 'postgres')))) {
    if (!(await dockerAvailable())) {
      throw new Error(
        `Postgres is not reachable at ${databaseUrl} and there is no Docker engine. Start it: ` +
          'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
      );
    }
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    databaseUrl = container.getConnectionUri();
    stops.push(() => container.stop());
  }
  if (!(await redisReachable(redisUrl))) {
    if (!(await dockerAvailable())) {
      throw new Error(
        `Redis is not reachable at ${redisUrl} and there is no Docker engine. Start it: ` +
          'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
      );
    }
    const { GenericContainer } = await import('testcontainers');
    const container = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    redisUrl = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
    stops.push(() => container.stop());
  }

  const templateDatabase = `posvenda_tpl_${process.pid}`;
  const templateUrl = databaseUrlFor(databaseUrl, templateDatabase);
  const admin = await adminConnection(databaseUrl);
  await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`);
  await admin.end();
  await ensureDatabase(templateUrl);
  const db = createDb(templateUrl, { maxConnections: 1 });
  const outcome = await migrateToLatest(db);
  await db.destroy();
  if (outcome.error) throw outcome.error;

  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    const cleanup = await adminConnection(databaseUrl);
    await cleanup.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`);
    await cleanup.end();
    for (const stop of stops) await stop();
  };
}
