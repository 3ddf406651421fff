import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AUTH_PROBLEMS, IdParams, ListOf, ListQuery, problems } from '../../http/schemas.js';
import type { WorkspaceRow } from './workspaces.repository.js';
import {
  CreatedWorkspace,
  CreateWorkspaceBody,
  Settings,
  SettingsPatch,
  Workspace,
} from './workspaces.schemas.js';
import {
  createWorkspace,
  getSettings,
  getWorkspace,
  listWorkspaces,
  patchSettings,
  type WorkspacesContext,
} from './workspaces.service.js';

function present(row: WorkspaceRow) {
  return {
    id: row.id,
    name: row.name,
    timezone: row.timezone,
    country: row.country,
    currency: row.currency,
    locale: row.locale,
    created_at: row.createdAt.toISOString(),
  };
}

/** `/v1/workspaces` (admins of the default workspace) and `/v1/settings` (the caller's workspace). */
export const workspacesRoutes: FastifyPluginAsyncTypebox<{ ctx: WorkspacesContext }> = async (
  app,
  { ctx },
) => {
  app.post(
    '/workspaces',
    {
      config: { access: 'instance_admin' },
      schema: {
        tags: ['workspaces'],
        operationId: 'createWorkspace',
        summary: 'Create a workspace and its first admin key (shown once)',
        description: 'Only an admin key of the default workspace may create workspaces.',
        body: CreateWorkspaceBody,
        response: { 201: CreatedWorkspace, ...problems(...AUTH_PROBLEMS, 422) },
      },
    },
    async (request, reply) => {
      const { workspace, adminKey } = await createWorkspace(ctx, request.body);
      reply.code(201);
      return { ...present(workspace), api_key: adminKey.key };
    },
  );

  app.get(
    '/workspaces',
    {
      config: { access: 'instance_admin' },
      schema: {
        tags: ['workspaces'],
        operationId: 'listWorkspaces',
        summary: 'List workspaces, newest first',
        querystring: ListQuery,
        response: { 200: ListOf(Workspace), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listWorkspaces(ctx, request.query);
      return { data: result.data.map(present), next_cursor: result.next_cursor };
    },
  );

  app.get(
    '/workspaces/:id',
    {
      config: { access: 'instance_admin' },
      schema: {
        tags: ['workspaces'],
        operationId: 'getWorkspace',
        summary: 'Get a workspace',
        params: IdParams,
        response: { 200: Workspace, ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => present(await getWorkspace(ctx, request.params.id)),
  );

  app.get(
    '/settings',
    {
      config: { access: 'read' },
      schema: {
        tags: ['workspaces'],
        operationId: 'getSettings',
        summary: "The workspace's settings, defaults included",
        response: { 200: Settings, ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => getSettings(ctx, request.principal.workspaceId),
  );

  app.patch(
    '/settings',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['workspaces'],
        operationId: 'updateSettings',
        summary: 'Change some settings; the others keep their values',
        body: SettingsPatch,
        response: { 200: Settings, ...problems(...AUTH_PROBLEMS, 422) },
      },
    },
    async (request) => patchSettings(ctx, request.principal.workspaceId, request.body),
  );
};
