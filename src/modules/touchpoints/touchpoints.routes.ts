import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AUTH_PROBLEMS, IdParams, ListOf, problems } from '../../http/schemas.js';
import { presentTouchpoint, presentTouchpointDetail } from './touchpoint-view.js';
import { TouchpointListQuery } from './touchpoints.schemas.js';
import {
  cancelTouchpoint,
  getTouchpoint,
  listTouchpoints,
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
    async (request) =>
      presentTouchpointDetail(await getTouchpoint(ctx, request.principal.workspaceId, request.params.id)),
  );

  app.post(
    '/touchpoints/:id/cancel',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'cancelTouchpoint',
        summary: 'Cancel a touchpoint that is still scheduled or queued',
        description:
          'The touchpoint becomes `cancelled` with reason `manual`. One that is sending, sent, pending or ' +
          'already ended answers 409 `not_cancellable`. Needs an admin key: cancelling changes what ' +
          'customers receive, which an ingest-only (`events:write`) key should not decide.',
        params: IdParams,
        response: { 200: Type.Ref('TouchpointDetail'), ...problems(...AUTH_PROBLEMS, 404, 409) },
      },
    },
    async (request) =>
      presentTouchpointDetail(await cancelTouchpoint(ctx, request.principal.workspaceId, request.params.id)),
  );
};
