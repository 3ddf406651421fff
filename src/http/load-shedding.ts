import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';

/**
 * Answers 503 with Retry-After, before doing any work, while the event loop is saturated,
 * so a burst degrades into quick refusals instead of every request timing out.
 */
export async function registerLoadShedding(app: FastifyInstance, maxEventLoopDelayMs: number): Promise<void> {
  if (maxEventLoopDelayMs === 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    retryAfter: 2,
    sampleInterval: 100,
  });
}

/** Route config for probes that must answer even under pressure. */
export const NOT_SHED = { pressureHandler: () => undefined } as const;
