import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { variantOverride } from '../src/modules/alerts/variant-overrides.js';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { postEvents } from './helpers/metrics.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let worker: TestWorker;

beforeAll(async () => {
  t = await startTestApp({ clock });
  worker = startTestWorker(t.deps);
});
afterAll(async () => {
  await worker.close();
  await t.close();
});

const SWITCH = { switch_variant: { playbook: 'onboarding', step: 'upgrade-offer', variant: 'b' } };

const create = (key: string, body: Record<string, unknown>) =>
  call(t.app, 'POST', '/v1/alert-rules', key, body);

async function alerts(workspaceId: string): Promise<{ data: Record<string, unknown> }[]> {
  const result = await sql<{ data: Record<string, unknown> }>`
    SELECT data FROM outbox WHERE workspace_id = ${workspaceId} AND type = 'alert.triggered' ORDER BY seq`.execute(
    t.deps.db,
  );
  return result.rows;
}

let n = 0;
/** NPS answers from new customers, now. */
const answers = (count: number, score: number) =>
  Array.from({ length: count }, () => ({
    type: 'survey_response',
    at: clock.now().toISOString(),
    customer: `nps-${++n}`,
    segment: 'smb',
    properties: { survey: 'nps', score },
  }));

/** Moves the clock a minute on (rules are due once a minute) and runs one evaluator round. */
async function evaluate(minutes = 1): Promise<void> {
  clock.advance(minutes * 60_000);
  await worker.runNow('alert-evaluator');
}

describe('alert rules', () => {
  let key: string;
  let workspaceId: string;
  beforeAll(async () => {
    const ws = await createWorkspace(t.app);
    key = ws.key;
    workspaceId = ws.id;
  });

  it('fire once when they start holding, not while they keep holding, again after a stop past the cooldown', async () => {
    const created = await create(key, {
      kpi: 'nps',
      window: 'P30D',
      segment: 'smb',
      comparison: 'lt',
      threshold: 50,
      cooldown: 'PT2H',
      action: SWITCH,
    });
    expect(created.statusCode, created.body).toBe(201);
    const rule = created.json();
    expect(rule).toMatchObject({
      kpi: 'nps',
      cooldown: 'PT2H',
      state: { holding: false, last_triggered_at: null },
    });

    await evaluate(); // no answers: no data, does not hold
    expect(await alerts(workspaceId)).toHaveLength(0);
    expect(await variantOverride(t.deps.db, workspaceId, 'onboarding', 'upgrade-offer')).toBeUndefined();

    await postEvents(t, key, answers(2, 3)); // NPS −100
    await evaluate();
    const fired = await alerts(workspaceId);
    expect(fired).toHaveLength(1);
    expect(fired[0]?.data).toMatchObject({
      rule: { id: rule.id, kpi: 'nps', window: 'P30D', segment: 'smb', comparison: 'lt', threshold: 50 },
      value: -100,
      action: SWITCH,
    });
    expect(await variantOverride(t.deps.db, workspaceId, 'onboarding', 'upgrade-offer')).toBe('b');
    const firstTrigger = clock.now().toISOString();

    await evaluate(); // still holding: nothing new
    await evaluate();
    expect(await alerts(workspaceId)).toHaveLength(1);

    await postEvents(t, key, answers(8, 10)); // (8 − 2) ÷ 10 = 60: stops holding
    await evaluate();
    let state = (await call(t.app, 'GET', '/v1/alert-rules', key)).json().data[0].state;
    expect(state).toMatchObject({ holding: false, last_value: 60, last_triggered_at: firstTrigger });

    await postEvents(t, key, answers(6, 0)); // (8 − 8) ÷ 16 = 0: holds again, within the 2 h cooldown
    await evaluate();
    expect(await alerts(workspaceId)).toHaveLength(1);
    await evaluate(150); // past the cooldown, but it never stopped holding: still nothing
    expect(await alerts(workspaceId)).toHaveLength(1);

    await postEvents(t, key, answers(16, 9)); // (24 − 8) ÷ 32 = 50: not below 50, stops
    await evaluate();
    await postEvents(t, key, answers(22, 1)); // (24 − 30) ÷ 54: holds again, cooldown over → fires
    await evaluate();
    const all = await alerts(workspaceId);
    expect(all).toHaveLength(2);
    expect(all[1]?.data.value).toBe(-11.11);
    state = (await call(t.app, 'GET', '/v1/alert-rules', key)).json().data[0].state;
    expect(state).toMatchObject({ holding: true, last_triggered_at: clock.now().toISOString() });
  });

  it('are evaluated at most once a minute, however many rounds run', async () => {
    const before = (await call(t.app, 'GET', '/v1/alert-rules', key)).json().data[0].state.last_evaluated_at;
    await worker.runNow('alert-evaluator');
    await worker.runNow('alert-evaluator');
    const after = (await call(t.app, 'GET', '/v1/alert-rules', key)).json().data[0].state.last_evaluated_at;
    expect(after).toBe(before);
  });

  it('validate the KPI, durations and the action, naming the field (422)', async () => {
    const base = { kpi: 'nps', window: 'P30D', comparison: 'lt', threshold: 50 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, kpi: 'happiness' }, '/body/kpi'],
      [{ ...base, window: 'thirty days' }, '/body/window'],
      [{ ...base, window: 'PT0S' }, '/body/window'],
      [{ ...base, cooldown: 'soon' }, '/body/cooldown'],
      [
        { ...base, action: { switch_variant: { ...SWITCH.switch_variant, playbook: 'nope' } } },
        '/body/action/switch_variant/playbook',
      ],
      [
        { ...base, action: { switch_variant: { ...SWITCH.switch_variant, step: 'nope' } } },
        '/body/action/switch_variant/step',
      ],
      [
        { ...base, action: { switch_variant: { ...SWITCH.switch_variant, variant: 'z' } } },
        '/body/action/switch_variant/variant',
      ],
    ];
    for (const [body, path] of cases) {
      const response = await create(key, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
      expect(problemOf(response).errors?.map((e) => e.path)).toEqual([path]);
    }
    const badComparison = await create(key, { ...base, comparison: 'eq' });
    expect(badComparison.statusCode).toBe(400);
  });

  it('list, delete (204, then 404), and stay within their workspace', async () => {
    const created = (
      await create(key, { kpi: 'churn', window: 'P90D', comparison: 'gt', threshold: 5 })
    ).json();
    expect(created.cooldown).toBe('PT1H');
    const other = await createWorkspace(t.app);
    expect((await call(t.app, 'DELETE', `/v1/alert-rules/${created.id}`, other.key)).statusCode).toBe(404);
    expect((await call(t.app, 'GET', '/v1/alert-rules', other.key)).json().data).toEqual([]);
    const reader = await createKey(t.app, key, ['read']);
    expect(
      (await call(t.app, 'GET', '/v1/alert-rules?limit=1', reader.key)).json().next_cursor,
    ).not.toBeNull();
    expect(
      (await create(reader.key, { kpi: 'churn', window: 'P90D', comparison: 'gt', threshold: 5 })).statusCode,
    ).toBe(403);
    expect((await call(t.app, 'DELETE', `/v1/alert-rules/${created.id}`, key)).statusCode).toBe(204);
    expect((await call(t.app, 'DELETE', `/v1/alert-rules/${created.id}`, key)).statusCode).toBe(404);
  });
});
