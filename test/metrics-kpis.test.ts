import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createKey,
  createWorkspace,
  memoryLogger,
  problemOf,
  startTestApp,
  type TestApp,
} from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { insertTouchpoints, postEvents } from './helpers/metrics.js';

// Hand-built datasets: every expected value below is worked out in the comments beside it.

const mem = memoryLogger();
const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ clock, log: mem.log });
});
afterAll(async () => {
  for (const line of mem.lines())
    if (Number(line.level) >= 50) console.log(JSON.stringify(line).slice(0, 600));
  await t.close();
});

const get = async (key: string, url: string) => {
  const response = await call(t.app, 'GET', url, key);
  return response;
};
const kpi = async (key: string, name: string, query: string) => {
  const response = await get(key, `/v1/metrics/${name}?${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
};

const NOV = 'from=2026-11-01T00:00:00Z&to=2026-11-15T00:00:00Z';

describe('NPS', () => {
  let key: string;
  beforeAll(async () => {
    key = (await createWorkspace(t.app)).key;
    const nps = (customer: string, at: string, score: number, segment = 'smb') => ({
      type: 'survey_response',
      at,
      customer,
      segment,
      properties: { survey: 'nps', score },
    });
    await postEvents(t, key, [
      nps('n1', '2026-11-02T12:00:00Z', 10),
      nps('n1', '2026-11-05T12:00:00Z', 3), // latest of n1: a detractor
      nps('n2', '2026-11-03T12:00:00Z', 9), // promoter
      nps('n3', '2026-11-03T13:00:00Z', 7), // passive
      nps('n4', '2026-10-20T12:00:00Z', 10), // before the window
      nps('n5', '2026-11-04T12:00:00Z', 10, 'enterprise'), // promoter, other segment
      nps('n6', '2026-11-04T12:00:00Z', 2, 'sad'),
      nps('n7', '2026-11-04T13:00:00Z', 0, 'sad'),
    ]);
  });

  it("counts each customer's latest answer: % promoters − % detractors", async () => {
    // n1 detractor, n2 promoter, n3 passive, n5 promoter, n6 and n7 detractors: (2 − 3) ÷ 6 = −16.67
    const body = await kpi(key, 'nps', NOV);
    expect(body.value).toBe(-16.67);
    expect(body.unit).toBe('score');
    expect(body.details).toEqual({ answered: 6, promoters: 2, detractors: 3 });
    expect(body.formula).toMatch(/latest NPS answer/);
  });

  it('filters by segment; all detractors is −100; no answer is null', async () => {
    // smb: n1 detractor, n2 promoter, n3 passive → 0
    expect((await kpi(key, 'nps', `${NOV}&segment=smb`)).value).toBe(0);
    expect((await kpi(key, 'nps', `${NOV}&segment=sad`)).value).toBe(-100);
    expect((await kpi(key, 'nps', `${NOV}&segment=nobody`)).value).toBeNull();
    const empty = await kpi(key, 'nps', 'from=2026-09-01T00:00:00Z&to=2026-09-10T00:00:00Z');
    expect(empty.value).toBeNull();
    expect(empty.series.every((point: { value: unknown }) => point.value === null)).toBe(true);
  });

  it("cuts the series at local days of the workspace's time zone", async () => {
    // America/Sao_Paulo is UTC−3: local Nov 2 is [02T03:00Z, 03T03:00Z).
    const body = await kpi(key, 'nps', 'from=2026-11-02T03:00:00Z&to=2026-11-05T03:00:00Z&interval=day');
    expect(body.timezone).toBe('America/Sao_Paulo');
    expect(body.series).toEqual([
      { start: '2026-11-02T03:00:00.000Z', value: 100 }, // n1 10
      { start: '2026-11-03T03:00:00.000Z', value: 50 }, // n2 9, n3 7
      { start: '2026-11-04T03:00:00.000Z', value: -33.33 }, // n5 10, n6 2, n7 0
    ]);
    // Over the whole window n1's latest (Nov 2, 10) is still inside: 3 promoters, 2 detractors of 6.
    expect(body.value).toBe(16.67);
  });

  it('cuts weeks on Mondays and months on the 1st, the first bucket starting before `from`', async () => {
    const weeks = await kpi(key, 'nps', 'from=2026-11-04T03:00:00Z&to=2026-11-12T03:00:00Z&interval=week');
    // 2026-11-04 is a Wednesday; its week starts Monday Nov 2 (local), the next on Nov 9.
    expect(weeks.series.map((p: { start: string }) => p.start)).toEqual([
      '2026-11-02T03:00:00.000Z',
      '2026-11-09T03:00:00.000Z',
    ]);
    // The first bucket covers only [Nov 4, Nov 9): n5, n6, n7, n1 (Nov 5, 3) → (1 − 3) ÷ 4
    expect(weeks.series[0].value).toBe(-50);
    const months = await kpi(key, 'nps', 'from=2026-10-15T03:00:00Z&to=2026-11-15T03:00:00Z&interval=month');
    expect(months.series).toEqual([
      { start: '2026-10-01T03:00:00.000Z', value: 100 },
      { start: '2026-11-01T03:00:00.000Z', value: -16.67 },
    ]);
  });
});

describe('customers, revenue, tickets, surveys and touchpoints', () => {
  let key: string;
  let workspaceId: string;
  beforeAll(async () => {
    const ws = await createWorkspace(t.app);
    key = ws.key;
    workspaceId = ws.id;
    const buy = (customer: string, at: string, amount: number, category: string, currency = 'BRL') => ({
      type: 'purchase',
      at,
      customer,
      segment: customer === 'b' ? 'enterprise' : 'smb',
      properties: { amount, currency, products: [{ sku: `${category}-1`, category, price: amount }] },
    });
    const cancel = (customer: string, at: string) => ({ type: 'cancellation', at, customer });
    const ticket = (type: string, id: string, at: string) => ({
      type: `support_ticket.${type}`,
      at,
      customer: 'a',
      properties: { ticket_id: id },
    });
    const survey = (survey: string, score: number, customer: string) => ({
      type: 'survey_response',
      at: '2026-11-06T12:00:00Z',
      customer,
      properties: { survey, score },
    });
    await postEvents(t, key, [
      buy('a', '2026-10-01T12:00:00Z', 1000, 'shoes'),
      buy('b', '2026-10-02T12:00:00Z', 500, 'shoes'),
      buy('c', '2026-10-03T12:00:00Z', 200, 'shoes'),
      cancel('c', '2026-10-10T12:00:00Z'), // churned before the window
      buy('d', '2026-10-03T12:00:00Z', 300, 'shoes'),
      cancel('d', '2026-10-10T12:00:00Z'),
      buy('d', '2026-10-20T12:00:00Z', 400, 'shoes'), // came back: active at the start
      buy('e', '2026-11-03T00:00:00Z', 100, 'shoes'), // new in the window
      buy('e', '2026-11-04T12:00:00Z', 300, 'bags', 'USD'), // other currency: no revenue, still a category
      buy('d', '2026-11-10T00:00:00Z', 200, 'shoes'),
      cancel('a', '2026-11-05T12:00:00Z'), // active at the start, cancelled in the window
      cancel('e', '2026-11-08T12:00:00Z'), // not active at the start: not counted
      ticket('opened', 'T1', '2026-11-02T10:00:00Z'),
      ticket('first_response', 'T1', '2026-11-02T12:00:00Z'),
      ticket('resolved', 'T1', '2026-11-03T10:00:00Z'),
      ticket('opened', 'T2', '2026-11-04T00:00:00Z'),
      ticket('first_response', 'T2', '2026-11-04T04:00:00Z'),
      ticket('resolved', 'T2', '2026-11-05T00:00:00Z'),
      ticket('reopened', 'T2', '2026-11-06T00:00:00Z'),
      ticket('resolved', 'T2', '2026-11-07T00:00:00Z'),
      ticket('opened', 'T3', '2026-11-09T00:00:00Z'), // not answered yet: not in the mean
      survey('ces', 2, 'a'),
      survey('ces', 5, 'b'),
      survey('ces', 7, 'd'),
      survey('csat', 5, 'a'),
      survey('csat', 4, 'b'),
      survey('csat', 2, 'd'),
      survey('csat', 3, 'e'),
    ]);
    await insertTouchpoints(t.deps.db, workspaceId, [
      // 1 h late; e's first contact after the Nov 3 sale: 24 h lead time.
      {
        customer: 'e',
        due: '2026-11-03T23:00:00Z',
        created: '2026-11-03T00:00:00Z',
        sent: '2026-11-04T00:00:00Z',
      },
      // Upsell offers: d buys 2 days later (converted), b does not; 2 h and 0 h late.
      {
        customer: 'd',
        template: 'upgrade-offer',
        step: 'upgrade-offer',
        due: '2026-11-08T00:00:00Z',
        sent: '2026-11-08T02:00:00Z',
      },
      {
        customer: 'b',
        template: 'upgrade-offer',
        step: 'upgrade-offer',
        due: '2026-11-09T00:00:00Z',
        sent: '2026-11-09T00:00:00Z',
      },
      // Not sent: counts nowhere.
      { customer: 'a', template: 'upgrade-offer', due: '2026-11-09T00:00:00Z' },
    ]);
  });

  it('churn and retention over customers active at the start', async () => {
    // Active on Nov 1: a, b, d (c churned on Oct 10; e first bought on Nov 3). a cancelled: 1 ÷ 3.
    const churn = await kpi(key, 'churn', NOV);
    expect(churn).toMatchObject({ value: 33.33, unit: 'percent', details: { active: 3, cancelled: 1 } });
    expect((await kpi(key, 'retention', NOV)).value).toBe(66.67);
    // enterprise: only b, who stayed.
    expect((await kpi(key, 'churn', `${NOV}&segment=enterprise`)).value).toBe(0);
  });

  it('churn with no customer active at the start is null, and no_data in the summary', async () => {
    const query = 'from=2026-09-01T00:00:00Z&to=2026-09-15T00:00:00Z';
    expect((await kpi(key, 'churn', query)).value).toBeNull();
    expect((await kpi(key, 'retention', query)).value).toBeNull();
    const summary = (await get(key, `/v1/metrics/summary?${query}`)).json();
    const churn = summary.data.find((entry: { key: string }) => entry.key === 'churn');
    expect(churn).toMatchObject({ value: null, status: 'no_data', previous: null });
  });

  it('average ticket, revenue retention and both LTVs', async () => {
    // BRL purchases in the window: e 100, d 200 (e's USD purchase is left out).
    expect((await kpi(key, 'average-ticket', NOV)).value).toBe(150);
    // Previous 14 days [Oct 18, Nov 1): d bought 400; in the window d bought 200 → 50 %.
    expect((await kpi(key, 'revenue-retention', NOV)).value).toBe(50);
    const ltv = await kpi(key, 'ltv', NOV);
    // Before Nov 15: 1000 + 500 + 200 + 300 + 400 + 100 + 200 = 2700 over 5 buyers = 540.
    // Predictive: (300 ÷ 2 orders) × (2 orders ÷ 2 buyers) ÷ (1 ÷ 3) = 450.
    expect(ltv).toMatchObject({ value: 540, unit: 'currency', currency: 'BRL' });
    expect(ltv.details).toMatchObject({
      historical: 540,
      predictive: 450,
      average_ticket: 150,
      purchase_frequency: 1,
    });
  });

  it('cross-sell: buyers who bought a category their first purchase did not have', async () => {
    // Buyers in the window: e (first: shoes; then bags → cross-sell) and d (shoes again): 50 %.
    expect((await kpi(key, 'cross-sell-rate', NOV)).value).toBe(50);
  });

  it('tickets: first response, resolution time, first-contact resolution', async () => {
    expect((await kpi(key, 'first-response-time', NOV)).value).toBe(3); // (2 h + 4 h) ÷ 2; T3 unanswered
    expect((await kpi(key, 'time-to-resolution', NOV)).value).toBe(48); // (24 h + 72 h) ÷ 2
    expect((await kpi(key, 'first-contact-resolution', NOV)).value).toBe(50); // T2 was reopened
  });

  it('CES mean and CSAT share of 4–5', async () => {
    expect((await kpi(key, 'ces', NOV)).value).toBe(4.67); // (2 + 5 + 7) ÷ 3
    expect((await kpi(key, 'csat', NOV)).value).toBe(50); // 5 and 4 of four answers
  });

  it('response time, upsell conversion and lead time from touchpoints', async () => {
    expect((await kpi(key, 'response-time', NOV)).value).toBe(1); // (1 + 2 + 0) ÷ 3
    const upsell = await kpi(key, 'upsell-conversion', NOV);
    expect(upsell).toMatchObject({ value: 50, details: { offered: 2, converted: 1 } });
    const lead = await kpi(key, 'lead-time', NOV);
    // e's Nov 3 sale → contact Nov 4 00:00 = 24 h; the other two sales have no contact after them.
    expect(lead).toMatchObject({ value: 24, details: { purchases: 3, contacted: 1 } });
  });

  it('summary: every KPI with target, status and previous; targets follow PATCH /v1/settings', async () => {
    const response = await get(key, `/v1/metrics/summary?${NOV}`);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.data.map((entry: { key: string }) => entry.key)).toHaveLength(15);
    const entry = (name: string) => body.data.find((e: { key: string }) => e.key === name);
    expect(entry('churn')).toEqual({
      key: 'churn',
      value: 33.33,
      unit: 'percent',
      target: { op: 'lte', value: 5, warn: 10, basis: 'value' },
      status: 'breach',
      // [Oct 18, Nov 1): active on Oct 18: a, b (c churned, d churned on Oct 10 until Oct 20); none cancelled.
      previous: 0,
    });
    expect(entry('nps')).toMatchObject({ value: null, status: 'no_data' });
    expect(entry('upsell-conversion')).toMatchObject({ value: 50, status: 'ok' });
    // No target: ok with a value.
    expect(entry('csat')).toMatchObject({ value: 50, target: null, status: 'ok' });
    // LTV: 540 now against 600 on Nov 1 (2400 ÷ 4): a fall, breach of "+30 % a quarter".
    expect(entry('ltv')).toMatchObject({ value: 540, previous: 600, status: 'breach' });

    const patch = await call(t.app, 'PATCH', '/v1/settings', key, {
      kpi_targets: { churn: { op: 'lte', value: 40, warn: 50, basis: 'value' } },
    });
    expect(patch.statusCode, patch.body).toBe(200);
    const after = (await get(key, `/v1/metrics/summary?${NOV}`)).json();
    expect(after.data.find((e: { key: string }) => e.key === 'churn')).toMatchObject({
      status: 'ok',
      target: { op: 'lte', value: 40, warn: 50 },
    });
  });
});

describe('churn: who is active when the window starts', () => {
  it('a comeback before the window makes a customer active; a renewal inside it does not', async () => {
    const { key } = await createWorkspace(t.app);
    const buy = (customer: string, at: string) => ({
      type: 'purchase',
      at,
      customer,
      properties: { amount: 10 },
    });
    const cancel = (customer: string, at: string) => ({ type: 'cancellation', at, customer });
    await postEvents(t, key, [
      buy('f', '2026-10-01T12:00:00Z'),
      cancel('f', '2026-10-05T12:00:00Z'),
      buy('f', '2026-10-15T12:00:00Z'), // came back before Nov 1: active
      cancel('f', '2026-11-03T12:00:00Z'), // and cancelled in the window
      buy('g', '2026-10-01T12:00:00Z'),
      cancel('g', '2026-10-05T12:00:00Z'), // churned, nothing after
      buy('h', '2026-10-01T12:00:00Z'),
      cancel('h', '2026-10-05T12:00:00Z'),
      { type: 'renewal', at: '2026-11-02T12:00:00Z', customer: 'h' }, // back only inside the window
      buy('i', '2026-10-01T12:00:00Z'), // active, stays
    ]);
    // Active on Nov 1: f and i; f cancelled → 1 ÷ 2.
    expect(await kpi(key, 'churn', NOV)).toMatchObject({ value: 50, details: { active: 2, cancelled: 1 } });
  });
});

describe('errors', () => {
  let key: string;
  beforeAll(async () => {
    key = (await createWorkspace(t.app)).key;
  });

  it('unknown KPI → 404 problem', async () => {
    const response = await get(key, '/v1/metrics/happiness');
    expect(response.statusCode).toBe(404);
    expect(problemOf(response).code).toBe('not_found');
  });

  it('bad dates → 400, from ≥ to → 422, too many points → 422', async () => {
    const bad = await get(key, '/v1/metrics/nps?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors?.[0]?.path).toMatch(/from/);
    const reversed = await get(key, '/v1/metrics/summary?from=2026-11-10T00:00:00Z&to=2026-11-01T00:00:00Z');
    expect(reversed.statusCode).toBe(422);
    expect(problemOf(reversed).code).toBe('invalid_window');
    const many = await get(
      key,
      '/v1/metrics/churn?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=day',
    );
    expect(many.statusCode).toBe(422);
    expect(problemOf(many).errors?.[0]?.path).toBe('/querystring/interval');
    const interval = await get(key, '/v1/metrics/churn?interval=hour');
    expect(interval.statusCode).toBe(400);
  });

  it('an empty workspace answers no_data everywhere, never NaN', async () => {
    const body = (await get(key, '/v1/metrics/summary')).json();
    expect(body.data).toHaveLength(15);
    for (const entry of body.data)
      expect(entry).toMatchObject({ value: null, status: 'no_data', previous: null });
  });

  it('needs the read scope', async () => {
    const writer = await createKey(t.app, key, ['events:write']);
    expect((await get(writer.key, '/v1/metrics/summary')).statusCode).toBe(403);
    const reader = await createKey(t.app, key, ['read']);
    expect((await get(reader.key, '/v1/metrics/summary')).statusCode).toBe(200);
  });
});
