import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { OPTIONAL_BODY, Problem } from './schemas.js';

/** The OpenAPI document, generated from the routes' TypeBox schemas; served at /openapi.json and /docs. */
export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  app.addSchema(Problem);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Posvenda API',
        version: '1',
        description:
          'Active post-sale follow-up: sale events in, a calendar of touchpoints out, KPIs measured. ' +
          'Errors are RFC 9457 problem+json.',
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key of the workspace.' },
        },
      },
      tags: [
        { name: 'ops', description: 'Health, readiness, metrics' },
        { name: 'workspaces', description: 'Tenants and their settings' },
        { name: 'api-keys', description: 'Keys of a workspace' },
        {
          name: 'templates',
          description: 'Message templates and call scripts (Liquid), versioned, with A/B variants',
        },
        {
          name: 'playbooks',
          description: 'The post-sale calendar as versioned playbooks: triggers, steps, exits',
        },
        { name: 'events', description: 'Sale and usage events in (idempotent, one transaction each)' },
        { name: 'customers', description: 'Customer profiles, derived facts, consent, export and erasure' },
        { name: 'touchpoints', description: 'Planned contacts: list, inspect, cancel' },
        { name: 'calendar', description: 'Touchpoints by local day and the iCalendar feed of tasks' },
        {
          name: 'tracking',
          description:
            'The links of emails: open pixel, clicks, unsubscribe, survey answers (signed, no key)',
        },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string) ?? `def-${i}`,
    },
    // @fastify/swagger marks every request body required; a route that fills in an absent one says so.
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      const { openapiObject } = document;
      for (const operations of Object.values(openapiObject.paths ?? {})) {
        for (const operation of Object.values(operations ?? {}) as Record<string, unknown>[]) {
          if (typeof operation !== 'object' || operation === null || !(OPTIONAL_BODY in operation)) continue;
          delete operation[OPTIONAL_BODY];
          const body = operation.requestBody as { required?: boolean } | undefined;
          if (body) body.required = false;
        }
      }
      return openapiObject;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { shed: false } }, async () => app.swagger());
}
