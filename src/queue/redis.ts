import { Redis, type RedisOptions } from 'ioredis';

/**
 * The two kinds of Redis connection BullMQ's production guide asks for:
 * - `producer` (API, queue adders): no offline queue and one retry per command, so that a
 *   Redis outage makes a request fail at once (503) rather than hang;
 * - `worker` (blocking consumers): `maxRetriesPerRequest: null`, reconnecting forever.
 */
export type RedisRole = 'producer' | 'worker';

export function createRedis(url: string, role: RedisRole): Redis {
  const common: RedisOptions = {
    lazyConnect: true,
    connectionName: `posvenda-${role}`,
    // Back off between 1 s and 20 s while Redis is away; never give up.
    retryStrategy: (times) => Math.max(Math.min(Math.exp(times), 20000), 1000),
  };
  const options: RedisOptions =
    role === 'producer'
      ? { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 }
      : { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null };
  const redis = new Redis(url, options);
  // Errors surface on the commands that fail; an unhandled 'error' event would crash us.
  redis.on('error', () => {});
  return redis;
}

/** True when Redis answers PING within the timeout. */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis ping timed out')), timeoutMs);
    });
    return (await Promise.race([redis.ping(), timeout])) === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** True for errors raised by ioredis when Redis cannot be reached. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|ECONNREFUSED|ETIMEDOUT|enableOfflineQueue/.test(
      error.message,
    )
  );
}
