import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

const RETRY_AFTER_SECONDS = 2;

/**
 * Answers 503 with Retry-After, before doing any work, while the event loop is saturated,
 * so a burst degrades into quick refusals instead of every request timing out.
 */
export async function registerLoadShedding(app: FastifyInstance, maxEventLoopDelayMs: number): Promise<void> {
  if (maxEventLoopDelayMs === 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    retryAfter: RETRY_AFTER_SECONDS,
    sampleInterval: 100,
    pressureHandler: (_request, _reply, type, value) => {
      // under-pressure reads an empty delay histogram as an infinite delay. That happens when
      // one synchronous stretch outlasts the sample interval (e.g. compiling schemas at start):
      // a single past block, not a saturated loop. Shedding on it refused every request of the
      // next 100 ms, so let those through; a real overload shows as a finite, large delay.
      if (type === 'eventLoopDelay' && !Number.isFinite(value)) return undefined;
      return Promise.reject(
        new AppError('overloaded', 503, 'The service is overloaded; retry later.', undefined, {
          'retry-after': String(RETRY_AFTER_SECONDS),
        }),
      );
    },
  });
}

/** Route config for probes that must answer even under pressure. */
export const NOT_SHED = { pressureHandler: () => undefined } as const;
