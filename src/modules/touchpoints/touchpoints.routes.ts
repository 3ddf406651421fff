import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AUTH_PROBLEMS, IdParams, ListOf, problems } from '../../http/schemas.js';
import { presentTouchpoint, presentTouchpointDetail } from './touchpoint-view.js';
import { TaskOutcomeBody, TouchpointListQuery } from './touchpoints.schemas.js';
import {
  cancelTouchpoint,
  getTouchpointDetail,
  listTouchpoints,
  recordTaskOutcome,
  type TouchpointsContext,
} from './touchpoints.service.js';

const tags = ['touchpoints'];

/** `/v1/touchpoints…`: the planned contacts, one by one, and cancelling them. */
export const touchpointsRoutes: FastifyPluginAsyncTypebox<{ ctx: TouchpointsContext }> = async (
  app,
  { ctx },
) => {
  app.get(
    '/touchpoints',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listTouchpoints',
        summary:
          'List touchpoints, earliest due first, by customer, status, channel, playbook and due window',
        description:
          'Ordered by `due_at` ascending, then `id`, so a calendar reads forward in time. `from` is ' +
          'inclusive and `to` exclusive, both on `due_at`.',
        querystring: TouchpointListQuery,
        response: { 200: ListOf(Type.Ref('Touchpoint')), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listTouchpoints(ctx, request.principal.workspaceId, request.query);
      return { data: result.data.map(presentTouchpoint), next_cursor: result.next_cursor };
    },
  );

  app.get(
    '/touchpoints/:id',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getTouchpoint',
        summary: 'A touchpoint with its customer, rendered content and delivery attempts',
        params: IdParams,
        response: { 200: Type.Ref('TouchpointDetail'), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => {
      const { row, attempts } = await getTouchpointDetail(
        ctx,
        request.principal.workspaceId,
        request.params.id,
      );
      return presentTouchpointDetail(row, attempts);
    },
  );

  app.post(
    '/touchpoints/:id/cancel',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'cancelTouchpoint',
        summary: 'Cancel a touchpoint still scheduled or queued, or a task still pending',
        description:
          'The touchpoint becomes `cancelled` with reason `manual`. One that is sending, sent, pending or ' +
          'already ended answers 409 `not_cancellable`. Needs an admin key: cancelling changes what ' +
          'customers receive, which an ingest-only (`events:write`) key should not decide.',
        params: IdParams,
        response: { 200: Type.Ref('TouchpointDetail'), ...problems(...AUTH_PROBLEMS, 404, 409) },
      },
    },
    async (request) => {
      const row = await cancelTouchpoint(ctx, request.principal.workspaceId, request.params.id);
      const { attempts } = await getTouchpointDetail(ctx, request.principal.workspaceId, row.id);
      return presentTouchpointDetail(row, attempts);
    },
  );

  app.post(
    '/touchpoints/:id/outcome',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'recordTaskOutcome',
        summary: 'Record the outcome of a pending task (call, meeting, WhatsApp)',
        description:
          '`completed`, `no_answer`, `escalated` and `converted` complete the task (`completed_at`, ' +
          '`outcome`, `outcome_notes`) and emit `task.completed`. `rescheduled` needs a future ' +
          '`reschedule_at` and puts the task back on the calendar as `scheduled` at that time; it is ' +
          'rendered again when due. A touchpoint that is not a pending task answers 409 ' +
          '`not_pending_task`. Needs an admin key, like cancelling.',
        params: IdParams,
        body: TaskOutcomeBody,
        response: { 200: Type.Ref('TouchpointDetail'), ...problems(...AUTH_PROBLEMS, 400, 404, 409, 422) },
      },
    },
    async (request) => {
      const { row, attempts } = await recordTaskOutcome(
        ctx,
        request.principal.workspaceId,
        request.params.id,
        request.body,
      );
      return presentTouchpointDetail(row, attempts);
    },
  );
};
