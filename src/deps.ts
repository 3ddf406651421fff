import type { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { createDb, type Database } from './db/client.js';
import { createRedis } from './queue/redis.js';
import { createSecrets, type Secrets } from './secrets.js';

/** Everything with a lifetime that the application needs, created once and passed down. */
export interface Deps {
  readonly config: Config;
  readonly db: Database;
  /** Fail-fast Redis connection for the API and for adding jobs. */
  readonly redis: Redis;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: Registry;
  readonly secrets: Secrets;
}

export interface DepsOverrides {
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** Creates the dependencies; connections open lazily, so this does no I/O. */
export function createDeps(config: Config, overrides: DepsOverrides = {}): Deps {
  const log =
    overrides.log ??
    pino({
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', '*.api_key', '*.key', '*.secret'],
        censor: '[redacted]',
      },
    });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'posvenda_' });
  const db = createDb(config.databaseUrl);
  const clock = overrides.clock ?? systemClock;
  return {
    config,
    db,
    redis: createRedis(config.redisUrl, 'producer'),
    log,
    clock,
    metrics,
    secrets: createSecrets(config, db, clock, log),
  };
}

/** Closes the connections held by `deps`; safe to call twice. */
export async function closeDeps(deps: Deps): Promise<void> {
  await Promise.allSettled([deps.db.destroy(), deps.redis.quit().catch(() => deps.redis.disconnect())]);
}
