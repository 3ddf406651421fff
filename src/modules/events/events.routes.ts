import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { AUTH_PROBLEMS, problems } from '../../http/schemas.js';
import {
  BatchBody,
  BatchResult,
  EventAccepted,
  type EventAcceptedBody,
  SHARED_EVENT_SCHEMAS,
} from './events.schemas.js';
import { type EventsContext, type IngestOutcome, ingestBatch, ingestEvent } from './events.service.js';

const tags = ['events'];

// The bodies are checked by the service with the same compiled TypeBox schemas, so that a
// batch item gets exactly the errors a single event would, and one bad item does not
// reject the batch. The route schemas stay for the OpenAPI document.
const checkedByService: FastifySchemaCompiler<unknown> = () => (value) => ({ value });

function present(outcome: Exclude<IngestOutcome, { status: 'conflict' }>): EventAcceptedBody {
  const plan = outcome.status === 'accepted' ? outcome.plan : { touchpoints: [], exited: [] };
  return {
    id: outcome.id,
    status: outcome.status,
    customer_id: outcome.customerId,
    touchpoints: plan.touchpoints.map((t) => ({
      id: t.id,
      playbook: t.playbook,
      step: t.step,
      channel: t.channel,
      due_at: t.dueAt.toISOString(),
      status: t.status,
    })),
    exited: plan.exited.map((e) => ({ playbook: e.playbook, reason: e.reason })),
  };
}

/** `POST /v1/events` and `POST /v1/events/batch` (events:write scope). */
export const eventsRoutes: FastifyPluginAsyncTypebox<{ ctx: EventsContext }> = async (app, { ctx }) => {
  for (const schema of SHARED_EVENT_SCHEMAS) app.addSchema(schema);

  app.post(
    '/events',
    {
      config: { access: 'events:write' },
      validatorCompiler: checkedByService,
      schema: {
        tags,
        operationId: 'postEvent',
        summary: 'Ingest one event (idempotent on its id)',
        description:
          'Stores the event, upserts its customer and plans touchpoints in one transaction: a 2xx means ' +
          'committed. 202 accepted; 200 duplicate when the id was already accepted with the same body ' +
          '(nothing changes); 409 event_conflict when with another body. Property rules per type are in ' +
          'the *Properties schemas.',
        body: { $ref: 'EventInput#' },
        response: {
          200: EventAccepted,
          202: EventAccepted,
          ...problems(...AUTH_PROBLEMS, 409, 413, 422),
        },
      },
    },
    async (request, reply) => {
      const outcome = await ingestEvent(ctx, request.principal.workspaceId, request.body);
      reply.code(outcome.status === 'accepted' ? 202 : 200);
      return present(outcome);
    },
  );

  app.post(
    '/events/batch',
    {
      config: { access: 'events:write' },
      validatorCompiler: checkedByService,
      schema: {
        tags,
        operationId: 'postEventBatch',
        summary: 'Ingest 1–1000 events in one transaction, with a result per event',
        description:
          'Each event is checked on its own: an invalid one, or one whose id was used with another body, ' +
          'is `rejected` with its errors while the others are stored. Results follow the input order.',
        body: BatchBody,
        response: { 200: BatchResult, ...problems(...AUTH_PROBLEMS, 413) },
      },
    },
    async (request) => {
      const outcomes = await ingestBatch(ctx, request.principal.workspaceId, request.body);
      return {
        results: outcomes.map((o) =>
          o.status === 'rejected'
            ? {
                id: o.id,
                status: o.status,
                code: o.code,
                error: o.detail,
                ...(o.errors.length > 0 ? { errors: [...o.errors] } : {}),
              }
            : { id: o.id, status: o.status, customer_id: o.customerId },
        ),
      };
    },
  );
};
