import type { KpiTarget } from '../workspaces/settings.js';

export type KpiStatus = 'ok' | 'warn' | 'breach' | 'no_data';

/** A quarter, for targets on growth ("LTV +30 % a quarter"): 365.25 ÷ 4 days. */
export const QUARTER_MS = (365.25 / 4) * 24 * 60 * 60 * 1000;

/**
 * Growth from `previous` to `value` over `windowMs`, compounded to a quarter, in percent:
 * ((value ÷ previous)^(quarter ÷ window) − 1) × 100. Null without a positive previous value.
 */
export function quarterlyChange(
  value: number | null,
  previous: number | null,
  windowMs: number,
): number | null {
  if (value === null || previous === null || previous <= 0 || value < 0) return null;
  return Math.round(((value / previous) ** (QUARTER_MS / windowMs) - 1) * 10000) / 100;
}

/**
 * ok / warn / breach against a target. `gte`: at least `value` is ok, at least `warn` is warn,
 * below is breach; `lte` mirrors it. `basis: change_percent` judges the quarterly change from the
 * previous window instead of the value. No value (or no change to judge) → no_data; a KPI with a
 * value and no target → ok, there being nothing to miss.
 */
export function kpiStatus(
  target: KpiTarget | undefined,
  value: number | null,
  previous: number | null,
  windowMs: number,
): KpiStatus {
  if (value === null) return 'no_data';
  if (target === undefined) return 'ok';
  const judged = target.basis === 'change_percent' ? quarterlyChange(value, previous, windowMs) : value;
  if (judged === null) return 'no_data';
  if (target.op === 'gte') return judged >= target.value ? 'ok' : judged >= target.warn ? 'warn' : 'breach';
  return judged <= target.value ? 'ok' : judged <= target.warn ? 'warn' : 'breach';
}
