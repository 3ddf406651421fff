import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { AUTH_PROBLEMS, ListOf, ListQuery, problems } from '../../http/schemas.js';
import { previewTemplate } from './preview.service.js';
import type { TemplateDocument } from './template-document.js';
import type { TemplateRow } from './templates.repository.js';
import {
  CreateTemplateBody,
  GetTemplateQuery,
  KeyParams,
  ListTemplatesQuery,
  Preview,
  PreviewBody,
  ReplaceTemplateBody,
  Template,
} from './templates.schemas.js';
import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  listVersions,
  noTemplateUsage,
  replaceTemplate,
  type TemplatesContext,
  type TemplateUsageCheck,
} from './templates.service.js';

const tags = ['templates'];

type TemplateOut = Static<typeof Template>;

function present(row: TemplateRow): TemplateOut {
  return {
    key: row.key,
    ...row.document,
    variants: row.document.variants as TemplateOut['variants'],
    family: row.document.family ?? null,
    version: row.version,
    current_version: row.currentVersion,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export interface TemplatesRoutesOptions {
  readonly ctx: Pick<TemplatesContext, 'db' | 'clock'>;
  /** PUBLIC_URL, the base of preview links. */
  readonly publicUrl: string;
  /** Which playbooks use a template; the playbooks issue passes its check here. */
  readonly templateUsage?: TemplateUsageCheck;
}

/** `/v1/templates`: message templates and call scripts, versioned, with preview. */
export const templatesRoutes: FastifyPluginAsyncTypebox<TemplatesRoutesOptions> = async (app, options) => {
  const ctx: TemplatesContext = {
    ...options.ctx,
    publicUrl: options.publicUrl,
    templateUsage: options.templateUsage ?? noTemplateUsage,
  };
  app.get(
    '/templates',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listTemplates',
        summary: 'List the templates at their current version, by key',
        querystring: ListTemplatesQuery,
        response: { 200: ListOf(Template), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listTemplates(ctx, request.principal.workspaceId, request.query);
      return { data: result.data.map(present), next_cursor: result.next_cursor };
    },
  );

  app.post(
    '/templates',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'createTemplate',
        summary: 'Create a template (version 1); Liquid is checked now, 422 says where',
        body: CreateTemplateBody,
        response: { 201: Template, ...problems(...AUTH_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => {
      const row = await createTemplate(ctx, request.principal.workspaceId, request.body as TemplateDocument);
      reply.code(201);
      return present(row);
    },
  );

  app.get(
    '/templates/:key',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getTemplate',
        summary: 'Get a template at its current version, or at ?version=N',
        params: KeyParams,
        querystring: GetTemplateQuery,
        response: { 200: Template, ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) =>
      present(
        await getTemplate(ctx, request.principal.workspaceId, request.params.key, request.query.version),
      ),
  );

  app.put(
    '/templates/:key',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'replaceTemplate',
        summary: 'Save a new version of a template (earlier versions are kept)',
        params: KeyParams,
        body: ReplaceTemplateBody,
        response: { 200: Template, ...problems(...AUTH_PROBLEMS, 404, 422) },
      },
    },
    async (request) =>
      present(
        await replaceTemplate(
          ctx,
          request.principal.workspaceId,
          request.params.key,
          request.body as TemplateDocument,
        ),
      ),
  );

  app.delete(
    '/templates/:key',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'deleteTemplate',
        summary: 'Delete a template (409 while a playbook uses it; its history stays for touchpoints)',
        params: KeyParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(...AUTH_PROBLEMS, 404, 409) },
      },
    },
    async (request, reply) => {
      await deleteTemplate(ctx, request.principal.workspaceId, request.params.key);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/templates/:key/versions',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listTemplateVersions',
        summary: 'List the versions of a template, newest first',
        params: KeyParams,
        querystring: ListQuery,
        response: { 200: ListOf(Template), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => {
      const result = await listVersions(
        ctx,
        request.principal.workspaceId,
        request.params.key,
        request.query,
      );
      return { data: result.data.map(present), next_cursor: result.next_cursor };
    },
  );

  app.post(
    '/templates/:key/preview',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'previewTemplate',
        summary: 'Render a template for a customer (same variant for the same customer); stores nothing',
        params: KeyParams,
        body: PreviewBody,
        response: { 200: Preview, ...problems(...AUTH_PROBLEMS, 404, 422) },
      },
    },
    async (request) => {
      const { template, variant, rendered } = await previewTemplate(
        ctx,
        request.principal.workspaceId,
        request.params.key,
        request.body,
      );
      const out = { template: template.key, version: template.version, variant, ...rendered };
      return out as Static<typeof Preview>;
    },
  );
};
