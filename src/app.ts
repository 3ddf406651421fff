import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { PgListener } from './db/listener.js';
import type { Deps } from './deps.js';
import { authPlugin } from './http/auth.js';
import { registerErrorHandling } from './http/error-handler.js';
import { registerJsonBody } from './http/json-body.js';
import { registerLoadShedding } from './http/load-shedding.js';
import { registerRateLimit } from './http/rate-limit.js';
import { registerOpenApi } from './http/swagger.js';
import { buildValidator } from './http/validation.js';
import { alertsRoutes } from './modules/alerts/alerts.routes.js';
import { KEY_LISTENER_NAME } from './modules/api-keys/api-keys.repository.js';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.js';
import { authenticateKey } from './modules/api-keys/api-keys.service.js';
import { API_KEY_CHANNEL, ApiKeyCache } from './modules/api-keys/key-cache.js';
import { calendarRoutes } from './modules/calendar/calendar.routes.js';
import { customersRoutes } from './modules/customers/customers.routes.js';
import { exitEnrollmentsOf } from './modules/enrollments/enrollments.repository.js';
import { createRulesPlanner } from './modules/enrollments/rules-planner.js';
import { eventsRoutes } from './modules/events/events.routes.js';
import { createIngestGroups } from './modules/events/events.service.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { playbooksUsingTemplates } from './modules/playbooks/playbooks.repository.js';
import { playbooksRoutes } from './modules/playbooks/playbooks.routes.js';
import { liveTemplateChannels } from './modules/templates/templates.repository.js';
import { templatesRoutes } from './modules/templates/templates.routes.js';
import { touchpointsRoutes } from './modules/touchpoints/touchpoints.routes.js';
import { SHARED_TOUCHPOINT_SCHEMAS } from './modules/touchpoints/touchpoints.schemas.js';
import { trackingRoutes } from './modules/tracking/tracking.routes.js';
import { requeueLost, webhookQueue } from './modules/webhooks/webhooks.jobs.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';
import { workspacesRoutes } from './modules/workspaces/workspaces.routes.js';
import { DEFAULT_WORKSPACE_ID } from './modules/workspaces/workspaces.service.js';
import { registerOpsRoutes } from './ops-app.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The HTTP application with its production options. The server and the tests both build
 * it through here, so tests exercise what runs.
 */
export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // Tracking tokens travel as a path segment (/t/c/{token}), and a click token seals its
    // destination URL: far past the router's default of 100 characters.
    routerOptions: { maxParamLength: 8192 },
    // Fastify calls the factory with the shared schemas and the result with { schema, httpPart };
    // its published type describes the plain Ajv compile signature instead, hence the cast.
    schemaController: {
      compilersFactory: { buildValidator },
    } as unknown as FastifyServerOptions['schemaController'],
  }).withTypeProvider<TypeBoxTypeProvider>();

  // While closing, answers in flight tell the client to drop the connection, so keep-alive
  // sockets do not hold the shutdown open until their idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });

  registerErrorHandling(app);
  registerJsonBody(app);
  registerLoadShedding(app, deps.config.loadShedMaxEventLoopDelayMs);
  await registerOpenApi(app, deps.config.publicUrl);
  registerOpsRoutes(app, deps);

  const ctx = { db: deps.db, clock: deps.clock, keyCache: registerKeyCache(app, deps) };
  // One planner for every way events come in (the API, survey answers): it caches playbooks.
  const planner = createRulesPlanner();
  await app.register(
    async (v1) => {
      await registerRateLimit(v1, {
        rps: deps.config.rateLimitRps,
        redis: deps.redis,
        prefix: deps.config.queuePrefix,
      });
      await v1.register(authPlugin, {
        defaultWorkspaceId: DEFAULT_WORKSPACE_ID,
        resolveKey: (token) => authenticateKey(ctx, DEFAULT_WORKSPACE_ID, token),
      });
      await v1.register(workspacesRoutes, { ctx });
      await v1.register(apiKeysRoutes, { ctx });
      await v1.register(templatesRoutes, {
        ctx,
        publicUrl: deps.config.publicUrl,
        templateUsage: (db, workspaceId, template) =>
          playbooksUsingTemplates(
            db,
            workspaceId,
            template.family ? [template.key, template.family] : [template.key],
          ),
      });
      await v1.register(playbooksRoutes, {
        ctx: {
          ...ctx,
          templateChannels: liveTemplateChannels,
          endEnrollments: (db, workspaceId, playbookKey, at) =>
            exitEnrollmentsOf(db, workspaceId, { playbookKey }, 'playbook_deleted', at),
        },
      });
      const eventsCtx = { ...ctx, planner };
      await v1.register(eventsRoutes, { ctx: { ...eventsCtx, groups: createIngestGroups(eventsCtx) } });
      // Touchpoints appear in the touchpoint, calendar and customer routes alike.
      for (const schema of SHARED_TOUCHPOINT_SCHEMAS) v1.addSchema(schema);
      await v1.register(customersRoutes, { ctx });
      await v1.register(touchpointsRoutes, { ctx });
      await v1.register(metricsRoutes, { ctx });
      await v1.register(alertsRoutes, { ctx });
      await v1.register(calendarRoutes, {
        ctx: { ...ctx, secrets: deps.secrets, publicUrl: deps.config.publicUrl },
      });
      const deliveries = webhookQueue(deps.redis, deps.config.queuePrefix);
      await v1.register(webhooksRoutes, {
        ctx: {
          ...ctx,
          secrets: deps.secrets,
          allowPrivate: deps.config.webhookAllowPrivate,
          enqueue: (delivery) => requeueLost(deliveries, [delivery]),
        },
      });
    },
    { prefix: '/v1' },
  );
  // The links inside emails (open pixel, clicks, unsubscribe, surveys): no API key, a signed
  // token each; limited per address, in counters of their own.
  await app.register(async (links) => {
    await registerRateLimit(links, {
      rps: deps.config.rateLimitRps,
      redis: deps.redis,
      prefix: `${deps.config.queuePrefix}:links`,
    });
    await links.register(trackingRoutes, {
      ctx: { db: deps.db, clock: deps.clock, secrets: deps.secrets, planner },
      rps: deps.config.rateLimitRps,
    });
  });
  return app;
}

/**
 * The in-memory cache of authenticated keys, fed by a Postgres LISTEN connection that
 * hears every revocation (undefined when API_KEY_CACHE_TTL_MS is 0). It serves only while
 * that connection is up, from `ready` to `close`.
 */
function registerKeyCache(app: FastifyInstance, deps: Deps): ApiKeyCache | undefined {
  if (deps.config.apiKeyCacheTtlMs === 0) return undefined;
  const cache = new ApiKeyCache({ clock: deps.clock, ttlMs: deps.config.apiKeyCacheTtlMs });
  const listener = new PgListener({
    databaseUrl: deps.config.databaseUrl,
    channel: API_KEY_CHANNEL,
    applicationName: KEY_LISTENER_NAME,
    log: deps.log,
    onNotify: (payload) => {
      const ack = cache.notified(payload);
      if (ack) listener.notify(ack);
    },
    onLive: (live) => cache.setLive(live),
  });
  // Ready once the first connection attempt is over, so a healthy start serves from the cache.
  app.addHook('onReady', async () => listener.start());
  app.addHook('onClose', async () => listener.stop());
  return cache;
}
