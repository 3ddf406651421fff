import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AUTH_PROBLEMS, IdParams, ListOf, ListQuery, OPTIONAL_BODY, problems } from '../../http/schemas.js';
import type { DeliveryRow } from './delivery-log.repository.js';
import type { EndpointRow } from './webhooks.repository.js';
import {
  CreatedWebhook,
  CreateWebhookBody,
  Delivery,
  DeliveryListQuery,
  DeliveryParams,
  type DeliveryStatus,
  RotatedWebhook,
  RotateSecretBody,
  UpdateWebhookBody,
  Webhook,
} from './webhooks.schemas.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  retryDelivery,
  rotateWebhookSecret,
  updateWebhook,
  type WebhooksContext,
} from './webhooks.service.js';

const tags = ['webhooks'];

function presentWebhook(row: EndpointRow, now: Date) {
  const previousUntil = row.previousSecretExpiresAt;
  return {
    id: row.id,
    url: row.url,
    events: [...row.events],
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    created_at: row.createdAt.toISOString(),
    previous_secret_expires_at: previousUntil && previousUntil > now ? previousUntil.toISOString() : null,
  };
}

interface AttemptView {
  readonly attempt: number;
  readonly at: Date;
  readonly statusCode: number | null;
  readonly durationMs: number;
  readonly error: string | null;
  readonly responseExcerpt: string | null;
}

function presentDelivery(row: DeliveryRow & { readonly attemptLog: readonly AttemptView[] }) {
  return {
    id: row.id,
    webhook_id: row.endpointId,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    created_at: row.createdAt.toISOString(),
    completed_at: row.completedAt?.toISOString() ?? null,
    attempt_log: row.attemptLog.map((a) => ({
      attempt: a.attempt,
      at: a.at.toISOString(),
      status_code: a.statusCode,
      duration_ms: a.durationMs,
      error: a.error,
      response_excerpt: a.responseExcerpt,
    })),
  };
}

const WEBHOOKS_DESCRIPTION =
  'Deliveries follow Standard Webhooks: a POST of `{ type, timestamp, data }` with `webhook-id` (the ' +
  'event id, the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` ' +
  '(`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with the base64-decoded secret ' +
  'after `whsec_`). Any 2xx is success; redirects are not followed; each attempt times out after ' +
  '15 s. Failures are retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (± 10 %), then the ' +
  'delivery is failed. A 410 Gone disables the endpoint and cancels its waiting deliveries.';

/** `/v1/webhooks…`: outgoing webhook endpoints and their delivery log. */
export const webhooksRoutes: FastifyPluginAsyncTypebox<{ ctx: WebhooksContext }> = async (app, { ctx }) => {
  app.post(
    '/webhooks',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'createWebhook',
        summary: 'Register a webhook endpoint (the signing secret is shown once)',
        description: WEBHOOKS_DESCRIPTION,
        body: CreateWebhookBody,
        response: { 201: CreatedWebhook, ...problems(...AUTH_PROBLEMS, 422) },
      },
    },
    async (request, reply) => {
      const created = await createWebhook(ctx, request.principal.workspaceId, request.body);
      reply.code(201);
      return { ...presentWebhook(created, ctx.clock.now()), secret: created.secret };
    },
  );

  app.get(
    '/webhooks',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listWebhooks',
        summary: 'List the webhook endpoints, newest first',
        querystring: ListQuery,
        response: { 200: ListOf(Webhook), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listWebhooks(ctx, request.principal.workspaceId, request.query);
      return {
        data: result.data.map((row) => presentWebhook(row, ctx.clock.now())),
        next_cursor: result.next_cursor,
      };
    },
  );

  app.get(
    '/webhooks/:id',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getWebhook',
        summary: 'A webhook endpoint',
        params: IdParams,
        response: { 200: Webhook, ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) =>
      presentWebhook(
        await getWebhook(ctx, request.principal.workspaceId, request.params.id),
        ctx.clock.now(),
      ),
  );

  app.patch(
    '/webhooks/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'updateWebhook',
        summary: 'Change an endpoint: its URL, events, description, or turn it on or off',
        description:
          'The URL is checked as at creation. The secret does not change (see rotate-secret). An endpoint disabled by a 410 ' +
          'comes back with `enabled: true`; its cancelled deliveries stay cancelled (retry them one by one).',
        params: IdParams,
        body: UpdateWebhookBody,
        response: { 200: Webhook, ...problems(...AUTH_PROBLEMS, 404, 422) },
      },
    },
    async (request) =>
      presentWebhook(
        await updateWebhook(ctx, request.principal.workspaceId, request.params.id, request.body),
        ctx.clock.now(),
      ),
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'rotateWebhookSecret',
        summary: "Replace an endpoint's signing secret (the new one is shown once)",
        description:
          'The new secret signs every delivery from now on, retries of earlier ones included. For the ' +
          'grace period (`grace_period`, default `PT24H`) the old secret signs too: `webhook-signature` ' +
          'carries `v1,<new> v1,<old>`, and Standard Webhooks verifiers accept either, so the receiver ' +
          'can switch to the new secret whenever it is ready. Rotating again ends an earlier grace ' +
          'period at once: only the secret being replaced keeps signing. The body may be omitted.',
        params: IdParams,
        body: RotateSecretBody,
        [OPTIONAL_BODY]: true,
        response: { 200: RotatedWebhook, ...problems(...AUTH_PROBLEMS, 404, 422) },
      },
      // No body at all means the defaults.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const rotated = await rotateWebhookSecret(
        ctx,
        request.principal.workspaceId,
        request.params.id,
        request.body,
      );
      return { ...presentWebhook(rotated, ctx.clock.now()), secret: rotated.secret };
    },
  );

  app.delete(
    '/webhooks/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook endpoint; its waiting deliveries are cancelled',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request, reply) => {
      await deleteWebhook(ctx, request.principal.workspaceId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listWebhookDeliveries',
        summary: "An endpoint's deliveries, newest first, with every attempt",
        params: IdParams,
        querystring: DeliveryListQuery,
        response: { 200: ListOf(Delivery), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => {
      const result = await listWebhookDeliveries(
        ctx,
        request.principal.workspaceId,
        request.params.id,
        request.query,
      );
      return { data: result.data.map(presentDelivery), next_cursor: result.next_cursor };
    },
  );

  app.post(
    '/webhooks/:id/deliveries/:delivery_id/retry',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'retryWebhookDelivery',
        summary: 'Attempt a finished delivery once more, now',
        description:
          'For a delivery that succeeded, failed or was cancelled: one more attempt is queued at once, ' +
          'with the same `webhook-id`. A delivery still pending or being sent, or one whose endpoint is ' +
          'disabled, answers 409. A touchpoint already settled stays as it is.',
        params: DeliveryParams,
        response: { 202: Delivery, ...problems(...AUTH_PROBLEMS, 404, 409) },
      },
    },
    async (request, reply) => {
      const row = await retryDelivery(
        ctx,
        request.principal.workspaceId,
        request.params.id,
        request.params.delivery_id,
      );
      reply.code(202);
      return presentDelivery(row);
    },
  );
};
