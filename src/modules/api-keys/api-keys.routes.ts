import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AUTH_PROBLEMS, IdParams, ListOf, ListQuery, problems } from '../../http/schemas.js';
import type { ApiKeyRow } from './api-keys.repository.js';
import { ApiKey, CreateApiKeyBody, CreatedApiKey } from './api-keys.schemas.js';
import { type ApiKeysContext, createApiKey, deleteApiKey, listApiKeys } from './api-keys.service.js';

const tags = ['api-keys'];

function present(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    scopes: [...row.scopes],
    key_hint: row.keyHint,
    managed: row.managed,
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
  };
}

/** `/v1/api-keys`: create, list and revoke the workspace's keys (admin scope). */
export const apiKeysRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiKeysContext }> = async (app, { ctx }) => {
  app.post(
    '/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'createApiKey',
        summary: 'Create an API key (the key is shown once)',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const created = await createApiKey(ctx, request.principal.workspaceId, request.body);
      reply.code(201);
      return { ...present(created), key: created.key };
    },
  );

  app.get(
    '/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'listApiKeys',
        summary: 'List the active API keys, newest first',
        querystring: ListQuery,
        response: { 200: ListOf(ApiKey), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listApiKeys(ctx, request.principal.workspaceId, request.query);
      return { data: result.data.map(present), next_cursor: result.next_cursor };
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key, effective at once',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Revoked' }), ...problems(...AUTH_PROBLEMS, 404, 409) },
      },
    },
    async (request, reply) => {
      await deleteApiKey(ctx, request.principal.workspaceId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
