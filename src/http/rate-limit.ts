import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import { bearerToken } from './auth.js';

export interface RateLimitOptions {
  readonly rps: number;
  readonly redis: Redis;
  readonly prefix: string;
}

/**
 * Limits requests per API key across every replica, in Redis (a 1-second window allows
 * bursts up to the limit). Unauthenticated callers are limited by address. When Redis is
 * away the limit is skipped rather than failing requests.
 */
export async function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (options.rps === 0) return;
  await app.register(rateLimit, {
    max: options.rps,
    timeWindow: 1000,
    redis: options.redis,
    nameSpace: `${options.prefix}:rate:`,
    skipOnError: true,
    keyGenerator: (request) => {
      const token = bearerToken(request);
      // The key itself never reaches Redis, only a digest of it.
      return token
        ? `k:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`
        : `ip:${request.ip}`;
    },
    errorResponseBuilder: (request, context) =>
      new AppError(
        'rate_limited',
        429,
        `More than ${context.max} requests per second for this ${bearerToken(request) ? 'API key' : 'address'}; ` +
          `retry after ${context.after}.`,
      ),
  });
}
