import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AUTH_PROBLEMS, ListOf, ListQuery, problems } from '../../http/schemas.js';
import type { PlaybookRow } from './playbooks.repository.js';
import {
  CreatePlaybookBody,
  PlaybookKeyParams,
  PlaybookResponse,
  PlaybookVersionQuery,
  PreviewBody,
  PreviewResponse,
  UpdatePlaybookBody,
} from './playbooks.schemas.js';
import {
  createPlaybook,
  deletePlaybook,
  getPlaybook,
  listPlaybooks,
  type PlaybooksContext,
  previewPlaybook,
  updatePlaybook,
} from './playbooks.service.js';

const tags = ['playbooks'];

function present(row: PlaybookRow) {
  return {
    key: row.key,
    version: row.version,
    ...row.document,
    enabled: row.document.enabled ?? true,
    reentry: row.document.reentry ?? 'never',
    exit_on: [...(row.document.exit_on ?? [])],
    steps: [...row.document.steps],
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** `/v1/playbooks`: versioned playbook documents, and a preview that plans without storing. */
export const playbooksRoutes: FastifyPluginAsyncTypebox<{ ctx: PlaybooksContext }> = async (app, { ctx }) => {
  app.get(
    '/playbooks',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listPlaybooks',
        summary: 'List playbooks (current versions), by key',
        querystring: ListQuery,
        response: { 200: ListOf(PlaybookResponse), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listPlaybooks(ctx, request.principal.workspaceId, request.query);
      return { data: result.data.map(present), next_cursor: result.next_cursor };
    },
  );

  app.post(
    '/playbooks',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'createPlaybook',
        summary: 'Create a playbook',
        body: CreatePlaybookBody,
        response: { 201: PlaybookResponse, ...problems(...AUTH_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => {
      const row = await createPlaybook(ctx, request.principal.workspaceId, request.body);
      reply.code(201);
      return present(row);
    },
  );

  app.get(
    '/playbooks/:key',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getPlaybook',
        summary: 'Get a playbook (the current version, or ?version=N)',
        params: PlaybookKeyParams,
        querystring: PlaybookVersionQuery,
        response: { 200: PlaybookResponse, ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) =>
      present(
        await getPlaybook(ctx, request.principal.workspaceId, request.params.key, request.query.version),
      ),
  );

  app.put(
    '/playbooks/:key',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'updatePlaybook',
        summary: 'Save a new version of a playbook (running enrollments keep theirs)',
        params: PlaybookKeyParams,
        body: UpdatePlaybookBody,
        response: { 200: PlaybookResponse, ...problems(...AUTH_PROBLEMS, 404, 422) },
      },
    },
    async (request) =>
      present(await updatePlaybook(ctx, request.principal.workspaceId, request.params.key, request.body)),
  );

  app.delete(
    '/playbooks/:key',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'deletePlaybook',
        summary: 'Delete a playbook: running enrollments end and their pending touchpoints are cancelled',
        params: PlaybookKeyParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request, reply) => {
      await deletePlaybook(ctx, request.principal.workspaceId, request.params.key);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/playbooks/:key/preview',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'previewPlaybook',
        summary: 'What the playbook would plan for a hypothetical customer and events; nothing is stored',
        params: PlaybookKeyParams,
        body: PreviewBody,
        response: { 200: PreviewResponse, ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => previewPlaybook(ctx, request.principal.workspaceId, request.params.key, request.body),
  );
};
