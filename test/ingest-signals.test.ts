// Outgoing events that ingest raises about customers, written to the outbox in the event's own
// transaction: customer.stage_changed and upsell.opportunity — once per change, not per event.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

const NOW = '2026-11-20T12:00:00Z';
const clock = new TestClock(NOW);
let t: TestApp;
let shop: { id: string; key: string };
let seq = 0;

beforeAll(async () => {
  t = await startTestApp({ clock });
  shop = await createWorkspace(t.app);
});
afterAll(async () => t.close());
beforeEach(() => clock.set(NOW));

const event = (
  customer: Record<string, unknown>,
  type: string,
  occurredAt: string,
  properties: Record<string, unknown> = {},
  id = `s-${++seq}`,
) => ({ id, type, occurred_at: occurredAt, customer, properties });

async function post(body: Record<string, unknown>, status = 202) {
  const response = await call(t.app, 'POST', '/v1/events', shop.key, body);
  expect(response.statusCode, response.body).toBe(status);
}

async function postBatch(events: readonly Record<string, unknown>[]) {
  const response = await call(t.app, 'POST', '/v1/events/batch', shop.key, { events });
  expect(response.statusCode, response.body).toBe(200);
  const results = (response.json() as { results: { status: string }[] }).results;
  expect(results.map((r) => r.status)).toEqual(events.map(() => 'accepted'));
}

/** The outbox rows of a type about one customer, oldest first. */
async function outbox(type: string, customerId: string) {
  const rows = await t.deps.db
    .selectFrom('outbox')
    .select(['type', 'data', 'createdAt'])
    .where('workspaceId', '=', shop.id)
    .where('type', '=', type)
    .orderBy('seq')
    .execute();
  return rows
    .map((row) => row.data as { customer: { id: string } } & Record<string, unknown>)
    .filter((data) => data.customer.id === customerId);
}

const usage = (value: number, limit = 100, metric = 'capacity') => ({ metric, value, limit });

describe('customer.stage_changed', () => {
  it('is emitted once per change of the lifecycle stage, with the customer, from, to and at', async () => {
    const customer = { id: 'stage-1', name: 'Ana Souza', email: 'ana@example.com', segment: 'smb' };
    await post(event(customer, 'delivery', '2026-11-18T12:00:00Z'));
    // A new customer's first stage is recorded, not announced.
    expect(await outbox('customer.stage_changed', 'stage-1')).toEqual([]);
    await post(event(customer, 'activity', '2026-11-19T12:00:00Z'));
    expect(await outbox('customer.stage_changed', 'stage-1')).toEqual([]);

    await post(event(customer, 'survey_response', '2026-11-20T10:00:00Z', { survey: 'nps', score: 3 }));
    expect(await outbox('customer.stage_changed', 'stage-1')).toEqual([
      {
        customer: { id: 'stage-1', name: 'Ana Souza', email: 'ana@example.com', phone: null, segment: 'smb' },
        from: 'onboarding',
        to: 'at_risk',
        at: '2026-11-20T12:00:00.000Z',
      },
    ]);
    // Still a detractor: no change, no event; a replay changes nothing either.
    const again = event(customer, 'survey_response', '2026-11-20T11:00:00Z', { survey: 'nps', score: 2 });
    await post(again);
    await post(again, 200);
    expect(await outbox('customer.stage_changed', 'stage-1')).toHaveLength(1);

    clock.set('2026-11-20T13:00:00Z');
    await post(event(customer, 'survey_response', '2026-11-20T12:30:00Z', { survey: 'nps', score: 9 }));
    const told = await outbox('customer.stage_changed', 'stage-1');
    expect(told.map((e) => [e.from, e.to, e.at])).toEqual([
      ['onboarding', 'at_risk', '2026-11-20T12:00:00.000Z'],
      ['at_risk', 'onboarding', '2026-11-20T13:00:00.000Z'],
    ]);
  });

  it('an older fact that does not change the stage raises nothing (out of order)', async () => {
    const customer = { id: 'stage-2' };
    await post(event(customer, 'delivery', '2026-11-18T12:00:00Z'));
    await post(event(customer, 'survey_response', '2026-11-20T10:00:00Z', { survey: 'nps', score: 10 }));
    // An NPS answer older than the latest one: the latest still counts, the stage stays.
    await post(event(customer, 'survey_response', '2026-11-19T10:00:00Z', { survey: 'nps', score: 1 }));
    expect(await outbox('customer.stage_changed', 'stage-2')).toEqual([]);
    await post(event(customer, 'cancellation', '2026-11-20T11:00:00Z'));
    expect((await outbox('customer.stage_changed', 'stage-2')).map((e) => [e.from, e.to])).toEqual([
      ['onboarding', 'churned'],
    ]);
  });
});

describe('upsell.opportunity', () => {
  it('is emitted when a usage reading crosses the threshold upwards, once per crossing', async () => {
    const customer = { id: 'usage-1', name: 'Bia', segment: 'smb' };
    await post(event(customer, 'usage', '2026-11-20T08:00:00Z', usage(50)));
    expect(await outbox('upsell.opportunity', 'usage-1')).toEqual([]);
    await post(event(customer, 'usage', '2026-11-20T09:00:00Z', usage(85)));
    expect(await outbox('upsell.opportunity', 'usage-1')).toEqual([
      {
        customer: { id: 'usage-1', name: 'Bia', email: null, phone: null, segment: 'smb' },
        reason: 'usage_threshold',
        usage: { metric: 'capacity', value: 85, limit: 100, percent: 85 },
      },
    ]);
    // Staying above it raises nothing; dropping below and crossing again does.
    await post(event(customer, 'usage', '2026-11-20T10:00:00Z', usage(95)));
    await post(event(customer, 'usage', '2026-11-20T10:30:00Z', usage(30)));
    expect(await outbox('upsell.opportunity', 'usage-1')).toHaveLength(1);
    // A late reading, older than the latest known one, crosses nothing.
    await post(event(customer, 'usage', '2026-11-20T10:15:00Z', usage(99)));
    expect(await outbox('upsell.opportunity', 'usage-1')).toHaveLength(1);
    await post(event(customer, 'usage', '2026-11-20T11:00:00Z', usage(161, 200)));
    const told = await outbox('upsell.opportunity', 'usage-1');
    expect(told.map((e) => e.usage)).toEqual([
      { metric: 'capacity', value: 85, limit: 100, percent: 85 },
      { metric: 'capacity', value: 161, limit: 200, percent: 80.5 },
    ]);
  });

  it('uses 80 % for a metric no usage playbook names, and a playbook threshold for its metric', async () => {
    await post(event({ id: 'usage-2' }, 'usage', '2026-11-20T08:00:00Z', usage(79, 100, 'seats')));
    expect(await outbox('upsell.opportunity', 'usage-2')).toEqual([]);
    await post(event({ id: 'usage-2' }, 'usage', '2026-11-20T09:00:00Z', usage(8, 10, 'seats')));
    expect((await outbox('upsell.opportunity', 'usage-2')).map((e) => e.usage)).toEqual([
      { metric: 'seats', value: 8, limit: 10, percent: 80 },
    ]);
    // A usage playbook on the metric sets its threshold, and a new version of it counts at once.
    const playbook = {
      name: 'Storage upsell',
      trigger: { usage: { metric: 'storage', at_least: 0.5 } },
      reentry: 'always',
      steps: [{ key: 'offer', after: 'PT1H', channel: 'email', template: 'upgrade-offer' }],
    };
    const created = await call(t.app, 'POST', '/v1/playbooks', shop.key, {
      key: 'storage-upsell',
      ...playbook,
    });
    expect(created.statusCode, created.body).toBe(201);
    await post(event({ id: 'usage-2' }, 'usage', '2026-11-20T10:10:00Z', usage(60, 100, 'storage')));
    expect((await outbox('upsell.opportunity', 'usage-2')).map((e) => e.usage)).toContainEqual({
      metric: 'storage',
      value: 60,
      limit: 100,
      percent: 60,
    });
    const saved = await call(t.app, 'PUT', '/v1/playbooks/storage-upsell', shop.key, {
      ...playbook,
      trigger: { usage: { metric: 'storage', at_least: 0.9 } },
    });
    expect(saved.statusCode, saved.body).toBe(200);
    await post(event({ id: 'usage-2' }, 'usage', '2026-11-20T10:20:00Z', usage(10, 100, 'storage')));
    await post(event({ id: 'usage-2' }, 'usage', '2026-11-20T10:30:00Z', usage(70, 100, 'storage')));
    expect(await outbox('upsell.opportunity', 'usage-2')).toHaveLength(2);
    await post(event({ id: 'usage-2' }, 'usage', '2026-11-20T10:40:00Z', usage(95, 100, 'storage')));
    expect((await outbox('upsell.opportunity', 'usage-2')).map((e) => e.usage)).toHaveLength(3);
  });
});

describe('the batch path', () => {
  it('emits the same events, once per change, with each customer played in time order', async () => {
    const a = { id: 'batch-a', name: 'Caio' };
    const b = { id: 'batch-b', name: 'Duda' };
    await postBatch([event(a, 'delivery', '2026-11-18T12:00:00Z')]);
    // Given out of order: B's readings are 50 → 90 → 20 → 85 by occurred_at (two crossings);
    // A answers two detractor scores (one change).
    await postBatch([
      event(b, 'usage', '2026-11-20T09:00:00Z', usage(20)),
      event(a, 'survey_response', '2026-11-20T10:00:00Z', { survey: 'nps', score: 4 }),
      event(b, 'usage', '2026-11-20T07:00:00Z', usage(50)),
      event(b, 'usage', '2026-11-20T10:00:00Z', usage(85)),
      event(a, 'survey_response', '2026-11-20T11:00:00Z', { survey: 'nps', score: 5 }),
      event(b, 'usage', '2026-11-20T08:00:00Z', usage(90)),
    ]);
    expect((await outbox('customer.stage_changed', 'batch-a')).map((e) => [e.from, e.to])).toEqual([
      ['onboarding', 'at_risk'],
    ]);
    expect((await outbox('upsell.opportunity', 'batch-b')).map((e) => e.usage)).toEqual([
      { metric: 'capacity', value: 90, limit: 100, percent: 90 },
      { metric: 'capacity', value: 85, limit: 100, percent: 85 },
    ]);
    // The next batch with nothing new to tell adds nothing.
    await postBatch([
      event(a, 'survey_response', '2026-11-20T11:30:00Z', { survey: 'nps', score: 6 }),
      event(b, 'usage', '2026-11-20T11:00:00Z', usage(88)),
    ]);
    expect(await outbox('customer.stage_changed', 'batch-a')).toHaveLength(1);
    expect(await outbox('upsell.opportunity', 'batch-b')).toHaveLength(2);
  });

  it('group commit of concurrent single events emits each change once', async () => {
    const customer = { id: 'group-1' };
    await post(event(customer, 'delivery', '2026-11-18T12:00:00Z'));
    await Promise.all(
      [3, 4, 5, 2].map((score, i) =>
        post(event(customer, 'survey_response', `2026-11-20T0${i + 1}:00:00Z`, { survey: 'nps', score })),
      ),
    );
    expect((await outbox('customer.stage_changed', 'group-1')).map((e) => [e.from, e.to])).toEqual([
      ['onboarding', 'at_risk'],
    ]);
  });
});
