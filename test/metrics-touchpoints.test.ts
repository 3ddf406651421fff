import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chiSquaredTest, normalCdf, twoProportionZTest } from '../src/modules/metrics/significance.js';
import { call, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { insertTouchpoints, postEvents, type TouchpointRow } from './helpers/metrics.js';

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ clock });
});
afterAll(async () => t.close());

/** Standard normal density integrated by composite Simpson's rule: a reference independent of erf. */
function referenceTwoSidedP(z: number): number {
  const steps = 2000;
  const h = Math.abs(z) / steps;
  const pdf = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  let sum = pdf(0) + pdf(Math.abs(z));
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * pdf(i * h);
  return 1 - 2 * ((h / 3) * sum);
}

describe('significance', () => {
  it('two-proportion z-test by hand: 10/40 against 5/50', () => {
    // pooled p = 15/90; SE = √(p(1 − p)(1/40 + 1/50)) = √(0.138889 × 0.045) = 0.0790569; z = 0.15 / SE
    const z = 0.15 / Math.sqrt((15 / 90) * (75 / 90) * (1 / 40 + 1 / 50));
    const result = twoProportionZTest(10, 40, 5, 50);
    expect(result.z).toBeCloseTo(z, 10);
    expect(result.z).toBeCloseTo(1.897367, 5);
    expect(result.pValue).toBeCloseTo(referenceTwoSidedP(z), 5);
    expect(result.pValue).toBeCloseTo(0.0578, 4);
  });

  it('Φ matches table values; no variation gives p = 1', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
    expect(twoProportionZTest(0, 40, 0, 50)).toEqual({ z: 0, pValue: 1 });
  });

  it('chi-squared: df 1 equals z², df 2 has p = e^(−χ²/2)', () => {
    const two = chiSquaredTest([
      { successes: 10, n: 40 },
      { successes: 5, n: 50 },
    ]);
    expect(two.statistic).toBeCloseTo(1.897367 ** 2, 4);
    expect(two.pValue).toBeCloseTo(twoProportionZTest(10, 40, 5, 50).pValue, 5);
    // 3 groups: pooled 30/150 = 0.2. Expected successes 8, 10, 12 (n 40, 50, 60).
    // χ² = Σ (o − e)²/e + (f − ef)²/ef = (4/8 + 4/8) + (25/10 + 25/40) + (1/12 + 1/48) = 4.229167 … (by hand below)
    const groups = [
      { successes: 10, n: 40 },
      { successes: 5, n: 50 },
      { successes: 15, n: 60 },
    ];
    let x = 0;
    for (const g of groups) {
      const e = g.n * 0.2;
      x += (g.successes - e) ** 2 / e + (g.successes - e) ** 2 / (g.n - e);
    }
    const three = chiSquaredTest(groups);
    expect(three.degreesOfFreedom).toBe(2);
    expect(three.statistic).toBeCloseTo(x, 10);
    expect(three.pValue).toBeCloseTo(Math.exp(-x / 2), 8);
  });
});

describe('GET /v1/metrics/touchpoints', () => {
  let key: string;
  beforeAll(async () => {
    const ws = await createWorkspace(t.app);
    key = ws.key;
    const customers = Array.from({ length: 100 }, (_, i) => `tp-${i}`);
    await postEvents(t, key, [
      // Create the customers; these purchases precede every touchpoint and convert none.
      ...customers.map((customer) => ({
        type: 'activity',
        at: '2026-11-01T12:00:00Z',
        customer,
      })),
      // Variant a: customers 0–9 buy 2 days after the send; variant b: 40–44 buy; 45 buys 20 days later (too late).
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 40, 41, 42, 43, 44].map((i) => ({
        type: 'purchase',
        at: '2026-11-07T12:00:00Z',
        customer: `tp-${i}`,
        properties: { amount: 100 },
      })),
      { type: 'purchase', at: '2026-11-19T13:00:00Z', customer: 'tp-45', properties: { amount: 100 } },
    ]);
    const rows: TouchpointRow[] = [];
    const offer = (i: number, variant: string, extra: Partial<TouchpointRow> = {}): TouchpointRow => ({
      customer: `tp-${i}`,
      playbook: 'upgrade-at-80',
      step: 'offer',
      template: 'upgrade-offer',
      variant,
      due: '2026-11-05T12:00:00Z',
      sent: '2026-11-05T12:00:00Z',
      ...extra,
    });
    // a: 40 sent (0–39), 35 delivered, 20 opened, 8 clicked; plus 2 skipped and 1 failed.
    for (let i = 0; i < 40; i++) {
      rows.push(
        offer(i, 'a', {
          delivered: i < 35 ? '2026-11-05T12:01:00Z' : null,
          opened: i < 20 ? '2026-11-05T13:00:00Z' : null,
          clicked: i < 8 ? '2026-11-05T13:01:00Z' : null,
        }),
      );
    }
    rows.push(
      offer(90, 'a', { sent: null, status: 'skipped' }),
      offer(91, 'a', { sent: null, status: 'skipped' }),
    );
    rows.push(offer(92, 'a', { sent: null, status: 'failed' }));
    // b: 50 sent (40–89).
    for (let i = 40; i < 90; i++) rows.push(offer(i, 'b'));
    // Another step with too few sends in one variant.
    for (let i = 0; i < 5; i++) rows.push({ ...offer(i, 'x'), step: 'small' });
    for (let i = 10; i < 50; i++) rows.push({ ...offer(i, 'y'), step: 'small' });
    // Outside the window (due in October): counted nowhere.
    rows.push({ ...offer(95, 'a'), due: '2026-10-01T12:00:00Z', sent: '2026-10-01T12:00:00Z' });
    await insertTouchpoints(t.deps.db, ws.id, rows);
  });

  const stats = async (query: string) => {
    const response = await call(t.app, 'GET', `/v1/metrics/touchpoints?${query}`, key);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  it('counts the funnel per playbook, step and variant, conversion decided from purchases', async () => {
    const body = await stats('from=2026-11-01T00:00:00Z&to=2026-11-15T00:00:00Z&playbook=upgrade-at-80');
    expect(body.group_by).toEqual(['playbook', 'step', 'variant']);
    expect(body.attribution_days).toBe(14);
    const a = body.data.find(
      (row: { step: string; variant: string }) => row.step === 'offer' && row.variant === 'a',
    );
    expect(a).toEqual({
      playbook: 'upgrade-at-80',
      step: 'offer',
      variant: 'a',
      planned: 43,
      sent: 40,
      delivered: 35,
      opened: 20,
      clicked: 8,
      answered: 0,
      converted: 10,
      skipped: 2,
      failed: 1,
      rates: { delivery: 87.5, open: 50, click: 20, answer: 0, conversion: 25 },
    });
    const b = body.data.find(
      (row: { step: string; variant: string }) => row.step === 'offer' && row.variant === 'b',
    );
    expect(b).toMatchObject({ sent: 50, converted: 5, rates: { conversion: 10 } });
  });

  it('tests the variants of a step: the z-test worked out by hand; too few sends → not enough data', async () => {
    const body = await stats('from=2026-11-01T00:00:00Z&to=2026-11-15T00:00:00Z&playbook=upgrade-at-80');
    expect(body.variant_tests.outcome).toBe('conversion');
    expect(body.variant_tests.min_sample).toBe(30);
    expect(body.variant_tests.method).toMatch(/two-proportion z-test/);
    const offer = body.variant_tests.tests.find((test: { step: string }) => test.step === 'offer');
    const z = 0.15 / Math.sqrt((15 / 90) * (75 / 90) * (1 / 40 + 1 / 50));
    expect(offer).toMatchObject({
      playbook: 'upgrade-at-80',
      step: 'offer',
      method: 'two_proportion_z',
      result: 'not significant',
      variants: [
        { variant: 'a', sent: 40, successes: 10 },
        { variant: 'b', sent: 50, successes: 5 },
      ],
    });
    expect(offer.statistic).toBeCloseTo(z, 4);
    expect(offer.p_value).toBeCloseTo(referenceTwoSidedP(z), 4);
    const small = body.variant_tests.tests.find((test: { step: string }) => test.step === 'small');
    expect(small).toMatchObject({ result: 'not enough data', p_value: null, method: null });

    // On clicks: a 8/40, b 0/50.
    const clicks = await stats(
      'from=2026-11-01T00:00:00Z&to=2026-11-15T00:00:00Z&outcome=click&playbook=upgrade-at-80',
    );
    const onClicks = clicks.variant_tests.tests.find((test: { step: string }) => test.step === 'offer');
    const zc = 0.2 / Math.sqrt((8 / 90) * (82 / 90) * (1 / 40 + 1 / 50));
    expect(onClicks.statistic).toBeCloseTo(zc, 4);
    expect(onClicks.result).toBe('significant');
  });

  it('groups by fewer fields; an unknown field → 400', async () => {
    const body = await stats(
      'from=2026-11-01T00:00:00Z&to=2026-11-15T00:00:00Z&group_by=step&playbook=upgrade-at-80',
    );
    expect(body.data.map((row: { step: string; sent: number }) => [row.step, row.sent])).toEqual([
      ['offer', 90],
      ['small', 45],
    ]);
    expect(body.variant_tests.tests).toEqual([]);
    const bad = await call(t.app, 'GET', '/v1/metrics/touchpoints?group_by=step,colour', key);
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors?.[0]?.path).toBe('/querystring/group_by');
  });
});
