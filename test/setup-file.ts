// Runs before each test file: gives it its own database (cloned from the migrated
// template) and its own Redis key prefix, and removes both afterwards.
import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { createRedis } from '../src/queue/redis.js';
import { adminConnection, databaseUrlFor, dropDatabase } from './helpers/databases.js';
import { setTestEnv } from './helpers/test-env.js';

const suffix = randomBytes(5).toString('hex');
const database = `posvenda_t_${suffix}`;
const serverUrl = inject('databaseUrl');

const admin = await adminConnection(serverUrl);
try {
  // Cloning needs the template to be idle; another file cloning at the same moment can
  // make Postgres refuse with "being accessed by other users", so try a few times.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${database} TEMPLATE ${inject('templateDatabase')}`);
      break;
    } catch (error) {
      if (attempt >= 20 || !String(error).includes('being accessed by other users')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
} finally {
  await admin.end();
}

const prefix = `{pvt-${suffix}}`;
setTestEnv({
  databaseUrl: databaseUrlFor(serverUrl, database),
  serverUrl,
  redisUrl: inject('redisUrl'),
  prefix,
});

afterAll(async () => {
  await dropDatabase(serverUrl, database);
  const redis = createRedis(inject('redisUrl'), 'producer');
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
});
