import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { notFound } from '../../errors.js';
import { KPI_KEYS, type KpiKey, type KpiTarget } from '../workspaces/settings.js';
import { getSettings } from '../workspaces/workspaces.service.js';
import { KPIS, type KpiDefinition, type KpiUnit, kpiDefinition } from './kpi-catalog.js';
import { type KpiStatus, kpiStatus } from './kpi-status.js';
import type { KpiScope, Window } from './metrics.repository.js';
import { buckets, defaultInterval, type Interval, previousWindow, resolveWindow } from './time-windows.js';

export interface MetricsContext {
  readonly db: Database;
  readonly clock: Clock;
}

export interface MetricsQuery {
  readonly from?: string;
  readonly to?: string;
  readonly segment?: string;
}

export interface SummaryEntry {
  readonly key: KpiKey;
  readonly value: number | null;
  readonly unit: KpiUnit;
  readonly target: KpiTarget | null;
  readonly status: KpiStatus;
  readonly previous: number | null;
}

export interface Summary {
  readonly window: Window;
  readonly currency: string;
  readonly data: readonly SummaryEntry[];
}

/** How many bucket computations of one series run at once: keeps a long series off the whole pool. */
const SERIES_CONCURRENCY = 4;

/** The scope of one request: a fresh object, so shared queries are memoised per request only. */
async function scopeOf(ctx: MetricsContext, workspaceId: string, segment: string | undefined) {
  const settings = await getSettings(ctx, workspaceId);
  const scope: KpiScope = { workspaceId, currency: settings.currency, segment };
  return { settings, scope };
}

/** Every KPI over the window and over the previous window of equal length, judged against the workspace's targets. */
export async function metricsSummary(
  ctx: MetricsContext,
  workspaceId: string,
  query: MetricsQuery,
): Promise<Summary> {
  const window = resolveWindow(query, ctx.clock.now());
  const previous = previousWindow(window);
  const { settings, scope } = await scopeOf(ctx, workspaceId, query.segment);
  const windowMs = window.to.getTime() - window.from.getTime();
  const data = await Promise.all(
    KPIS.map(async (kpi): Promise<SummaryEntry> => {
      const [current, before] = await Promise.all([
        kpi.compute(ctx.db, scope, window),
        kpi.compute(ctx.db, scope, previous),
      ]);
      const target = settings.kpi_targets[kpi.key];
      return {
        key: kpi.key,
        value: current.value,
        unit: kpi.unit,
        target: target ?? null,
        status: kpiStatus(target, current.value, before.value, windowMs),
        previous: before.value,
      };
    }),
  );
  return { window, currency: settings.currency, data };
}

export interface KpiReport {
  readonly key: KpiKey;
  readonly value: number | null;
  readonly unit: KpiUnit;
  readonly currency: string | null;
  readonly window: Window;
  readonly interval: Interval;
  readonly timezone: string;
  readonly series: readonly { readonly start: Date; readonly value: number | null }[];
  readonly details: Readonly<Record<string, number | null>>;
  readonly formula: string;
}

/** One KPI over the window, with its series by local day, week or month; 404 for an unknown KPI. */
export async function kpiReport(
  ctx: MetricsContext,
  workspaceId: string,
  key: string,
  query: MetricsQuery & { readonly interval?: Interval },
): Promise<KpiReport> {
  const kpi = kpiDefinition(key);
  if (!kpi) throw notFound(`KPI "${key}" (known: ${KPI_KEYS.join(', ')})`);
  const window = resolveWindow(query, ctx.clock.now());
  const interval = query.interval ?? defaultInterval(window);
  const { settings, scope } = await scopeOf(ctx, workspaceId, query.segment);
  // Cut before computing anything: too many points is a 422, not a slow answer.
  const cuts = buckets(window, interval, settings.timezone);
  const [total, series] = await Promise.all([
    kpi.compute(ctx.db, scope, window),
    seriesOf(ctx.db, kpi, scope, cuts),
  ]);
  return {
    key: kpi.key,
    value: total.value,
    unit: kpi.unit,
    currency: kpi.unit === 'currency' ? settings.currency : null,
    window,
    interval,
    timezone: settings.timezone,
    series,
    details: total.details,
    formula: kpi.formula,
  };
}

async function seriesOf(
  db: Database,
  kpi: KpiDefinition,
  scope: KpiScope,
  cuts: ReturnType<typeof buckets>,
): Promise<{ start: Date; value: number | null }[]> {
  const out: { start: Date; value: number | null }[] = new Array(cuts.length);
  let next = 0;
  const lane = async () => {
    while (next < cuts.length) {
      const index = next++;
      const cut = cuts[index];
      if (cut === undefined) return;
      const result = await kpi.compute(db, scope, cut.window);
      out[index] = { start: cut.start, value: result.value };
    }
  };
  await Promise.all(Array.from({ length: Math.min(SERIES_CONCURRENCY, cuts.length) }, lane));
  return out;
}

/** The value of one KPI over a window (alert rules). */
export async function kpiValue(
  ctx: MetricsContext,
  workspaceId: string,
  key: KpiKey,
  window: Window,
  segment?: string,
): Promise<number | null> {
  const kpi = kpiDefinition(key);
  if (!kpi) throw notFound(`KPI "${key}"`);
  const { scope } = await scopeOf(ctx, workspaceId, segment);
  return (await kpi.compute(ctx.db, scope, window)).value;
}
