import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { AUTH_PROBLEMS, IdParams, ListOf, ListQuery, problems } from '../../http/schemas.js';
import type { AlertRuleRow } from './alerts.repository.js';
import { AlertRule, AlertRuleBody, VariantOverride, VariantOverrideParams } from './alerts.schemas.js';
import {
  type AlertsContext,
  clearOverride,
  createAlertRule,
  listOverrides,
  listRules,
  removeAlertRule,
} from './alerts.service.js';
import type { VariantOverrideRow } from './variant-overrides.js';

const tags = ['alerts'];

function present(row: AlertRuleRow): Static<typeof AlertRule> {
  return {
    id: row.id,
    kpi: row.kpi,
    window: row.window,
    segment: row.segment,
    comparison: row.comparison,
    threshold: row.threshold,
    cooldown: row.cooldown,
    action: row.action,
    state: {
      holding: row.holding,
      last_value: row.lastValue,
      last_evaluated_at: row.lastEvaluatedAt?.toISOString() ?? null,
      last_triggered_at: row.lastTriggeredAt?.toISOString() ?? null,
    },
    created_at: row.createdAt.toISOString(),
  };
}

function presentOverride(row: VariantOverrideRow): Static<typeof VariantOverride> {
  return {
    playbook: row.playbookKey,
    step: row.stepKey,
    variant: row.variant,
    rule_id: row.ruleId,
    created_at: row.createdAt.toISOString(),
  };
}

/** `/v1/alert-rules`: KPI thresholds that emit `alert.triggered` and may switch a step's variant. */
export const alertsRoutes: FastifyPluginAsyncTypebox<{ ctx: AlertsContext }> = async (app, { ctx }) => {
  app.get(
    '/alert-rules',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listAlertRules',
        summary: 'Alert rules, oldest first, with the state of their last evaluation',
        querystring: ListQuery,
        response: { 200: ListOf(AlertRule), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listRules(ctx, request.principal.workspaceId, request.query);
      return { data: result.data.map(present), next_cursor: result.next_cursor };
    },
  );

  app.post(
    '/alert-rules',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'createAlertRule',
        summary: 'Create an alert rule: a KPI over a trailing window compared with a threshold',
        description:
          'An unknown KPI, a bad duration, or an action naming a playbook, step or variant that does not exist ' +
          'answers 422 with the offending field in `errors`.',
        body: AlertRuleBody,
        response: { 201: AlertRule, ...problems(...AUTH_PROBLEMS, 413, 422) },
      },
    },
    async (request, reply) => {
      const row = await createAlertRule(ctx, request.principal.workspaceId, request.body);
      reply.code(201);
      return present(row);
    },
  );

  app.delete(
    '/alert-rules/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'deleteAlertRule',
        summary: 'Delete an alert rule (a variant switch it made stays)',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request, reply) => {
      await removeAlertRule(ctx, request.principal.workspaceId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/variant-overrides',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listVariantOverrides',
        summary: 'Playbook steps switched to a template variant by alert actions',
        description:
          "Each entry overrides the weighted choice of variant for the step's touchpoints until it is deleted; " +
          'a later switch of the same step replaces it. Ordered by playbook and step key.',
        querystring: ListQuery,
        response: { 200: ListOf(VariantOverride), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listOverrides(ctx, request.principal.workspaceId, request.query);
      return { data: result.data.map(presentOverride), next_cursor: result.next_cursor };
    },
  );

  app.delete(
    '/variant-overrides/:playbook/:step',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'deleteVariantOverride',
        summary: "Clear a step's variant override: its touchpoints go back to the weighted choice",
        params: VariantOverrideParams,
        response: { 204: Type.Null({ description: 'Cleared' }), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request, reply) => {
      await clearOverride(ctx, request.principal.workspaceId, request.params.playbook, request.params.step);
      return reply.code(204).send(null);
    },
  );
};
