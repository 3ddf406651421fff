import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import Type from 'typebox';
import type { Database } from '../db/client.js';
import { pingRedis } from '../queue/redis.js';
import { NOT_SHED } from './load-shedding.js';

const Check = Type.Enum(['ok', 'unavailable']);
const Readiness = Type.Object({
  status: Type.Enum(['ready', 'unavailable']),
  checks: Type.Object({ postgres: Check, redis: Check }),
});

async function pingPostgres(db: Database, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('postgres ping timed out')), timeoutMs);
    });
    await Promise.race([sql`select 1`.execute(db), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz` (the process answers) and `/readyz` (Postgres and Redis answer too). */
export function registerHealth(app: FastifyInstance, db: Database, redis: Redis): void {
  app.get(
    '/healthz',
    {
      config: NOT_SHED,
      schema: {
        tags: ['ops'],
        operationId: 'getHealth',
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: NOT_SHED,
      schema: {
        tags: ['ops'],
        operationId: 'getReadiness',
        summary: 'Postgres and Redis are reachable (503 otherwise)',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [postgres, redisOk] = await Promise.all([pingPostgres(db, 2000), pingRedis(redis, 2000)]);
      const ready = postgres && redisOk;
      reply.code(ready ? 200 : 503);
      if (!ready) reply.header('retry-after', '5');
      return {
        status: ready ? ('ready' as const) : ('unavailable' as const),
        checks: {
          postgres: postgres ? ('ok' as const) : ('unavailable' as const),
          redis: redisOk ? ('ok' as const) : ('unavailable' as const),
        },
      };
    },
  );
}
