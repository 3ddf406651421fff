import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Deps } from './deps.js';
import { registerHealth } from './http/health.js';
import { registerMetrics } from './http/metrics.js';
import { dispatchMetrics, watchQueueDepths } from './modules/dispatch/dispatch-metrics.js';
import { dispatchQueue } from './modules/dispatch/dispatch-queue.js';

/**
 * What a `worker`-only process serves on PORT: `/healthz`, `/readyz` and `/metrics`, so the
 * dispatch lag and outcome counts it alone produces can be scraped (an `api` process never sees
 * them). No API routes: workers are not meant to be behind the load balancer.
 */
export async function buildOpsApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.log as FastifyBaseLogger, return503OnClosing: true });
  registerMetrics(app, deps.metrics);
  watchQueueDepths(deps.metrics, [dispatchQueue(deps.redis, deps.config.queuePrefix)]);
  dispatchMetrics(deps.metrics);
  registerHealth(app, deps.db, deps.redis);
  await app.ready();
  return app;
}
