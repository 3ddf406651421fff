import { badRequest } from '../../errors.js';
import { round2 } from './kpi-catalog.js';
import { ATTRIBUTION_DAYS, type Window } from './metrics.repository.js';
import type { MetricsContext } from './metrics.service.js';
import { chiSquaredTest, twoProportionZTest } from './significance.js';
import { resolveWindow } from './time-windows.js';
import {
  GROUP_FIELDS,
  type GroupField,
  type TouchpointCounts,
  touchpointCounts,
} from './touchpoint-stats.repository.js';

export const OUTCOMES = ['conversion', 'click', 'open', 'answer'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Fewer touchpoints sent than this in any variant: "not enough data", no test. */
export const MIN_SAMPLE_PER_VARIANT = 30;
/** Below this p-value a difference is called significant. */
export const SIGNIFICANCE_LEVEL = 0.05;

const SUCCESS: Readonly<Record<Outcome, (row: TouchpointCounts) => number>> = {
  conversion: (row) => row.converted,
  click: (row) => row.clicked,
  open: (row) => row.opened,
  answer: (row) => row.answered,
};

export const TEST_METHOD =
  'Per step, variants compared on the outcome (successes ÷ sent). Two variants: pooled two-proportion ' +
  'z-test, two-sided, p = 2(1 − Φ(|z|)) with Φ from erf by Abramowitz–Stegun 7.1.26. More than two: ' +
  "Pearson's chi-squared test of homogeneity (k × 2, no continuity correction), p from the regularized " +
  `incomplete gamma function. Each variant needs at least ${MIN_SAMPLE_PER_VARIANT} sent, else "not enough ` +
  `data". Significant when p < ${SIGNIFICANCE_LEVEL}.`;

export interface VariantTest {
  readonly group: Readonly<Partial<Record<GroupField, string | null>>>;
  readonly variants: readonly {
    readonly variant: string;
    readonly sent: number;
    readonly successes: number;
  }[];
  readonly method: 'two_proportion_z' | 'chi_squared' | null;
  readonly statistic: number | null;
  readonly p_value: number | null;
  readonly result: 'significant' | 'not significant' | 'not enough data';
}

export interface Rates {
  readonly delivery: number | null;
  readonly open: number | null;
  readonly click: number | null;
  readonly answer: number | null;
  readonly conversion: number | null;
}

export interface TouchpointStats {
  readonly window: Window;
  readonly groupBy: readonly GroupField[];
  readonly outcome: Outcome;
  readonly rows: readonly (TouchpointCounts & { readonly rates: Rates })[];
  readonly tests: readonly VariantTest[];
}

/** `playbook,step,variant` to the list of fields; 400 naming an unknown one. */
export function parseGroupBy(raw: string | undefined): GroupField[] {
  if (raw === undefined || raw.trim() === '') return ['playbook', 'step', 'variant'];
  const fields = raw.split(',').map((part) => part.trim());
  const unknown = fields.filter((field) => !(GROUP_FIELDS as readonly string[]).includes(field));
  if (unknown.length > 0) {
    throw badRequest('validation_failed', `group_by: unknown field(s) ${unknown.join(', ')}`, [
      {
        path: '/querystring/group_by',
        message: `must be a comma-separated list of ${GROUP_FIELDS.join(', ')}`,
      },
    ]);
  }
  return [...new Set(fields as GroupField[])];
}

const rate = (part: number, sent: number): number | null => (sent > 0 ? round2((100 * part) / sent) : null);

/** Funnel counts per group and, when grouped by variant, a test of difference per step. */
export async function touchpointStats(
  ctx: MetricsContext,
  workspaceId: string,
  query: {
    readonly from?: string;
    readonly to?: string;
    readonly group_by?: string;
    readonly outcome?: Outcome;
    readonly playbook?: string;
  },
): Promise<TouchpointStats> {
  const groupBy = parseGroupBy(query.group_by);
  const window = resolveWindow(query, ctx.clock.now());
  const outcome = query.outcome ?? 'conversion';
  const counts = await touchpointCounts(ctx.db, workspaceId, window, groupBy, query.playbook);
  const rows = counts.map((row) => ({
    ...row,
    rates: {
      delivery: rate(row.delivered, row.sent),
      open: rate(row.opened, row.sent),
      click: rate(row.clicked, row.sent),
      answer: rate(row.answered, row.sent),
      conversion: rate(row.converted, row.sent),
    },
  }));
  return {
    window,
    groupBy,
    outcome,
    rows,
    tests: groupBy.includes('variant') ? variantTests(counts, outcome) : [],
  };
}

/** Rows of the same group but for the variant, tested against each other. */
export function variantTests(counts: readonly TouchpointCounts[], outcome: Outcome): VariantTest[] {
  const byGroup = new Map<string, TouchpointCounts[]>();
  for (const row of counts) {
    if (row.group.variant === null || row.group.variant === undefined) continue;
    const { variant: _variant, ...rest } = row.group;
    const key = JSON.stringify(rest);
    const list = byGroup.get(key) ?? [];
    list.push(row);
    byGroup.set(key, list);
  }
  const tests: VariantTest[] = [];
  for (const rows of byGroup.values()) {
    if (rows.length < 2) continue;
    const { variant: _variant, ...group } = (rows[0] as TouchpointCounts).group;
    const variants = rows.map((row) => ({
      variant: String(row.group.variant),
      sent: row.sent,
      successes: SUCCESS[outcome](row),
    }));
    if (variants.some((v) => v.sent < MIN_SAMPLE_PER_VARIANT)) {
      tests.push({
        group,
        variants,
        method: null,
        statistic: null,
        p_value: null,
        result: 'not enough data',
      });
      continue;
    }
    let method: VariantTest['method'];
    let statistic: number;
    let pValue: number;
    if (variants.length === 2) {
      const [a, b] = variants as [(typeof variants)[0], (typeof variants)[0]];
      const z = twoProportionZTest(a.successes, a.sent, b.successes, b.sent);
      method = 'two_proportion_z';
      statistic = z.z;
      pValue = z.pValue;
    } else {
      const chi = chiSquaredTest(variants.map((v) => ({ successes: v.successes, n: v.sent })));
      method = 'chi_squared';
      statistic = chi.statistic;
      pValue = chi.pValue;
    }
    tests.push({
      group,
      variants,
      method,
      statistic: Math.round(statistic * 10000) / 10000,
      p_value: Math.round(pValue * 10000) / 10000,
      result: pValue < SIGNIFICANCE_LEVEL ? 'significant' : 'not significant',
    });
  }
  return tests;
}

export { ATTRIBUTION_DAYS };
