import { describe, expect, it } from 'vitest';
import { kpiStatus, QUARTER_MS, quarterlyChange } from '../src/modules/metrics/kpi-status.js';
import {
  buckets,
  defaultInterval,
  previousWindow,
  resolveWindow,
} from '../src/modules/metrics/time-windows.js';

const DAY = 24 * 60 * 60 * 1000;
const w = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });

describe('windows and buckets', () => {
  it('defaults to the last 30 days; the previous window has the same length', () => {
    const now = new Date('2026-11-20T12:00:00Z');
    expect(resolveWindow({}, now)).toEqual(w('2026-10-21T12:00:00Z', '2026-11-20T12:00:00Z'));
    expect(previousWindow(w('2026-11-10T00:00:00Z', '2026-11-20T00:00:00Z'))).toEqual(
      w('2026-10-31T00:00:00Z', '2026-11-10T00:00:00Z'),
    );
    expect(defaultInterval(w('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'))).toBe('day');
    expect(defaultInterval(w('2026-06-01T00:00:00Z', '2026-12-01T00:00:00Z'))).toBe('week');
    expect(defaultInterval(w('2025-06-01T00:00:00Z', '2026-12-01T00:00:00Z'))).toBe('month');
  });

  it('cuts local days across a DST change: the 25-hour day is one bucket, and buckets partition the window', () => {
    // New York leaves DST on 2026-11-01: that local day runs 04:00Z → 05:00Z next day.
    const cuts = buckets(w('2026-10-31T12:00:00Z', '2026-11-03T05:00:00Z'), 'day', 'America/New_York');
    expect(cuts.map((c) => c.start.toISOString())).toEqual([
      '2026-10-31T04:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
    ]);
    expect(cuts[0]?.window.from.toISOString()).toBe('2026-10-31T12:00:00.000Z'); // clipped to `from`
    const dstDay = cuts[1]?.window ?? { from: new Date(0), to: new Date(0) };
    expect(dstDay.to.getTime() - dstDay.from.getTime()).toBe(25 * 60 * 60 * 1000);
    for (let i = 1; i < cuts.length; i++) expect(cuts[i]?.window.from).toEqual(cuts[i - 1]?.window.to);
    expect(cuts.at(-1)?.window.to.toISOString()).toBe('2026-11-03T05:00:00.000Z');
  });
});

describe('status against targets', () => {
  const gte = { op: 'gte', value: 70, warn: 50, basis: 'value' } as const;
  const lte = { op: 'lte', value: 5, warn: 10, basis: 'value' } as const;
  const growth = { op: 'gte', value: 30, warn: 10, basis: 'change_percent' } as const;

  it('gte and lte with their warn lines; no value → no_data; no target → ok', () => {
    expect(kpiStatus(gte, 70, null, DAY)).toBe('ok');
    expect(kpiStatus(gte, 50, null, DAY)).toBe('warn');
    expect(kpiStatus(gte, 49.99, null, DAY)).toBe('breach');
    expect(kpiStatus(lte, 5, null, DAY)).toBe('ok');
    expect(kpiStatus(lte, 10, null, DAY)).toBe('warn');
    expect(kpiStatus(lte, 10.01, null, DAY)).toBe('breach');
    expect(kpiStatus(gte, null, 80, DAY)).toBe('no_data');
    expect(kpiStatus(undefined, 12, null, DAY)).toBe('ok');
  });

  it('growth targets compound the change over the window to a quarter', () => {
    // Over exactly a quarter, +30 % is +30 %.
    expect(quarterlyChange(130, 100, QUARTER_MS)).toBe(30);
    expect(kpiStatus(growth, 130, 100, QUARTER_MS)).toBe('ok');
    // Over half a quarter, +14.02 % compounds to (1.1402)² − 1 = 30.0 %.
    expect(quarterlyChange(114.02, 100, QUARTER_MS / 2)).toBeCloseTo(30.01, 1);
    expect(kpiStatus(growth, 105, 100, QUARTER_MS)).toBe('breach');
    expect(kpiStatus(growth, 115, 100, QUARTER_MS)).toBe('warn');
    expect(kpiStatus(growth, 100, null, QUARTER_MS)).toBe('no_data');
    expect(kpiStatus(growth, 100, 0, QUARTER_MS)).toBe('no_data');
  });
});
