import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AUTH_PROBLEMS, problems } from '../../http/schemas.js';
import { KPI_KEYS } from '../workspaces/settings.js';
import {
  KpiParams,
  KpiQuery,
  KpiReport,
  Summary,
  SummaryQuery,
  TouchpointStats,
  TouchpointStatsQuery,
} from './metrics.schemas.js';
import { kpiReport, type MetricsContext, metricsSummary } from './metrics.service.js';
import {
  ATTRIBUTION_DAYS,
  MIN_SAMPLE_PER_VARIANT,
  TEST_METHOD,
  touchpointStats,
} from './touchpoint-stats.service.js';

const tags = ['metrics'];

const TOUCHPOINT_DEFINITIONS =
  'Touchpoints due in [from, to), per group. sent: reached the customer (sent, or a task completed); ' +
  'delivered, opened, clicked, answered: tracked at least once; converted: the customer bought within ' +
  `${ATTRIBUTION_DAYS} days after the touchpoint was sent (decided at query time from purchase events); ` +
  'skipped, failed: by status. Rates are percent of sent.';

/** `/v1/metrics…`: the KPIs of API.md, their summary against targets, and touchpoint funnels. */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ ctx: MetricsContext }> = async (app, { ctx }) => {
  app.get(
    '/metrics/summary',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getMetricsSummary',
        summary: 'Every KPI over a window, its previous window, and its status against the workspace target',
        description:
          'Window [from, to), by default the last 30 days. `previous` is the value over the window of equal ' +
          'length before `from`. `from` not before `to` answers 422.',
        querystring: SummaryQuery,
        response: { 200: Summary, ...problems(...AUTH_PROBLEMS, 422) },
      },
    },
    async (request) => {
      const summary = await metricsSummary(ctx, request.principal.workspaceId, request.query);
      return {
        from: summary.window.from.toISOString(),
        to: summary.window.to.toISOString(),
        currency: summary.currency,
        data: summary.data.map((entry) => ({ ...entry, target: entry.target ? { ...entry.target } : null })),
      };
    },
  );

  app.get(
    '/metrics/touchpoints',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getTouchpointMetrics',
        summary:
          'Touchpoint funnel per playbook, step and variant, with a test of difference between variants',
        description: `${TOUCHPOINT_DEFINITIONS} ${TEST_METHOD}`,
        querystring: TouchpointStatsQuery,
        response: { 200: TouchpointStats, ...problems(...AUTH_PROBLEMS, 422) },
      },
    },
    async (request) => {
      const stats = await touchpointStats(ctx, request.principal.workspaceId, request.query);
      return {
        from: stats.window.from.toISOString(),
        to: stats.window.to.toISOString(),
        group_by: [...stats.groupBy],
        attribution_days: ATTRIBUTION_DAYS,
        definitions: TOUCHPOINT_DEFINITIONS,
        data: stats.rows.map(({ group, ...counts }) => ({ ...group, ...counts })),
        variant_tests: {
          outcome: stats.outcome,
          method: TEST_METHOD,
          min_sample: MIN_SAMPLE_PER_VARIANT,
          tests: stats.tests.map(({ group, ...test }) => ({
            ...group,
            ...test,
            variants: [...test.variants],
          })),
        },
      };
    },
  );

  app.get(
    '/metrics/:kpi',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getKpi',
        summary: 'One KPI over a window, with its series and its formula in words',
        description:
          `KPIs: ${KPI_KEYS.join(', ')}. An unknown one answers 404; \`from\` not before \`to\` or a series ` +
          'of more than 366 points answers 422.',
        params: KpiParams,
        querystring: KpiQuery,
        response: { 200: KpiReport, ...problems(...AUTH_PROBLEMS, 404, 422) },
      },
    },
    async (request) => {
      const report = await kpiReport(ctx, request.principal.workspaceId, request.params.kpi, request.query);
      return {
        key: report.key,
        value: report.value,
        unit: report.unit,
        currency: report.currency,
        from: report.window.from.toISOString(),
        to: report.window.to.toISOString(),
        interval: report.interval,
        timezone: report.timezone,
        series: report.series.map((point) => ({ start: point.start.toISOString(), value: point.value })),
        details: { ...report.details },
        formula: report.formula,
      };
    },
  );
};
