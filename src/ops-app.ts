import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Deps } from './deps.js';
import { registerHealth } from './http/health.js';
import { registerMetrics } from './http/metrics.js';
import { dispatchMetrics, watchQueueDepths } from './modules/dispatch/dispatch-metrics.js';
import { dispatchQueue } from './modules/dispatch/dispatch-queue.js';

/**
 * `/healthz`, `/readyz` and `/metrics`, with the dispatch metrics registered: the part of the
 * HTTP surface every process role serves. Queue depths are read from Redis at scrape time;
 * dispatch outcomes and lag are counted by the worker (in the same process under `all`).
 */
export function registerOpsRoutes(app: FastifyInstance, deps: Deps): void {
  registerMetrics(app, deps.metrics);
  watchQueueDepths(deps.metrics, [dispatchQueue(deps.redis, deps.config.queuePrefix)]);
  dispatchMetrics(deps.metrics);
  registerHealth(app, deps.db, deps.redis);
}

/**
 * What a `worker`-only process serves on PORT: only the ops routes, so the dispatch lag and
 * outcome counts it alone produces can be scraped (an `api` process never sees them). No API
 * routes: workers are not meant to be behind the load balancer.
 */
export async function buildOpsApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.log as FastifyBaseLogger, return503OnClosing: true });
  registerOpsRoutes(app, deps);
  await app.ready();
  return app;
}
