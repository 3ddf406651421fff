import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import type { TouchpointItem as Item } from './helpers/touchpoints.js';

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let key: string;
let other: string;
let n = 0;
const uid = (prefix: string) => `${prefix}-${++n}`;

const get = (url: string, as = key) => call(t.app, 'GET', url, as);
const list = async (query: string, as = key): Promise<{ data: Item[]; next_cursor: string | null }> => {
  const response = await get(`/v1/touchpoints?${query}`, as);
  expect(response.statusCode).toBe(200);
  return response.json();
};

/** A delivery for a customer: enterprise accounts get a check-in call task, smaller ones emails. */
async function deliver(customerId: string, segment: string, as = key): Promise<Item[]> {
  const response = await call(t.app, 'POST', '/v1/events', as, {
    id: uid('e'),
    type: 'delivery',
    occurred_at: '2026-11-20T11:00:00Z',
    customer: {
      id: customerId,
      name: 'Ana Souza',
      email: 'ana@example.com',
      phone: '+5511999990000',
      timezone: 'America/Sao_Paulo',
      segment,
    },
    properties: { order_id: uid('o'), amount: 100, currency: 'BRL' },
  });
  expect(response.statusCode).toBe(202);
  return (await list(`customer_id=${customerId}&limit=500`)).data;
}

beforeAll(async () => {
  t = await startTestApp({ clock });
  key = (await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' })).key;
  other = (await createWorkspace(t.app)).key;
});
afterAll(async () => t.close());

describe('GET /v1/touchpoints', () => {
  it("lists a customer's touchpoints earliest due first, with the list fields", async () => {
    const id = uid('c');
    const items = await deliver(id, 'enterprise');
    expect(items.length).toBeGreaterThan(3);
    const due = items.map((item) => item.due_at);
    expect(due).toEqual([...due].sort());
    const call = items.find((item) => item.step === 'checkin-call');
    expect(call).toMatchObject({
      customer_id: id,
      playbook: 'onboarding',
      channel: 'task',
      template: 'checkin-call',
      task_kind: 'call',
      status: 'scheduled',
      status_reason: null,
      template_version: null,
      variant: null,
      outcome: null,
    });
    expect(Object.keys(call ?? {}).sort()).toEqual(
      [
        'id',
        'customer_id',
        'playbook',
        'step',
        'channel',
        'template',
        'template_version',
        'variant',
        'due_at',
        'status',
        'status_reason',
        'task_kind',
        'outcome',
        'created_at',
        'updated_at',
      ].sort(),
    );
  });

  it('filters by status, channel, playbook and the due window', async () => {
    const id = uid('c');
    const items = await deliver(id, 'enterprise');
    const tasks = (await list(`customer_id=${id}&channel=task`)).data;
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks).toEqual(items.filter((item) => item.channel === 'task'));
    const onboarding = (await list(`customer_id=${id}&playbook=onboarding`)).data;
    expect(onboarding.every((item) => item.playbook === 'onboarding')).toBe(true);
    expect(onboarding.length).toBe(items.filter((item) => item.playbook === 'onboarding').length);
    const welcome = items.find((item) => item.step === 'welcome');
    const window = (await list(`customer_id=${id}&from=${welcome?.due_at}&to=2026-11-24T00:00:00Z`)).data;
    expect(window.map((item) => item.step)).toEqual(['welcome']);
    expect((await list(`customer_id=${id}&status=cancelled`)).data).toEqual([]);
    expect((await list(`customer_id=${id}&status=scheduled`)).data).toHaveLength(items.length);
  });

  it('pages by cursor without overlap or gaps', async () => {
    const id = uid('c');
    const items = await deliver(id, 'smb');
    const seen: Item[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Item[]; next_cursor: string | null } = await list(
        `customer_id=${id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(items);
    expect(new Set(seen.map((item) => item.id)).size).toBe(items.length);
  });

  it('GET /v1/customers/{id}/touchpoints pages the same items by the same cursor', async () => {
    const id = uid('c');
    const items = await deliver(id, 'enterprise');
    const seen: Item[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/customers/${id}/touchpoints?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { data: Item[]; next_cursor: string | null } = (await get(url)).json();
      seen.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(items);
    expect((await get(`/v1/customers/${id}/touchpoints`, other)).statusCode).toBe(404);
  });

  it('rejects bad filters and cursors with 400, and needs the read scope', async () => {
    problemOf(await get('/v1/touchpoints?status=lost'));
    expect((await get('/v1/touchpoints?from=yesterday')).statusCode).toBe(400);
    expect((await get('/v1/touchpoints?colour=red')).statusCode).toBe(400);
    expect(problemOf(await get('/v1/touchpoints?cursor=bm9wZQ')).code).toBe('invalid_cursor');
    expect((await get('/v1/touchpoints?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z')).statusCode).toBe(
      400,
    );
    const writer = await createKey(t.app, key, ['events:write']);
    expect((await get('/v1/touchpoints', writer.key)).statusCode).toBe(403);
    expect((await call(t.app, 'GET', '/v1/touchpoints', undefined)).statusCode).toBe(401);
  });

  it("never shows another workspace's touchpoints", async () => {
    const id = uid('c');
    await deliver(id, 'smb');
    expect((await list(`customer_id=${id}`, other)).data).toEqual([]);
  });
});

describe('GET /v1/touchpoints/{id}', () => {
  it('answers the touchpoint with its customer, content and attempts', async () => {
    const id = uid('c');
    const items = await deliver(id, 'enterprise');
    const task = items.find((item) => item.channel === 'task');
    const response = await get(`/v1/touchpoints/${task?.id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      ...task,
      outcome_notes: null,
      customer: {
        id,
        name: 'Ana Souza',
        email: 'ana@example.com',
        phone: '+5511999990000',
        segment: 'enterprise',
      },
      content: null,
      attempts: [],
    });
  });

  it("404 for an unknown id and for another workspace's; 400 for a non-uuid", async () => {
    const items = await deliver(uid('c'), 'smb');
    expect(problemOf(await get(`/v1/touchpoints/${items[0]?.id}`, other)).status).toBe(404);
    expect((await get('/v1/touchpoints/019a9a6e-1f00-7000-8000-000000000001')).statusCode).toBe(404);
    expect((await get('/v1/touchpoints/nope')).statusCode).toBe(400);
  });
});

describe('POST /v1/touchpoints/{id}/cancel', () => {
  it('cancels a scheduled touchpoint (reason manual), then answers 409 not_cancellable', async () => {
    const items = await deliver(uid('c'), 'smb');
    const target = items[0];
    clock.advance(60_000);
    const response = await call(t.app, 'POST', `/v1/touchpoints/${target?.id}/cancel`, key);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id: target?.id,
      status: 'cancelled',
      status_reason: 'manual',
      updated_at: clock.now().toISOString(),
    });
    expect((await get(`/v1/touchpoints/${target?.id}`)).json().status).toBe('cancelled');
    const again = await call(t.app, 'POST', `/v1/touchpoints/${target?.id}/cancel`, key);
    const problem = problemOf(again);
    expect(problem).toMatchObject({ status: 409, code: 'not_cancellable' });
    expect(problem.detail).toContain('cancelled');
    expect((await list('status=cancelled')).data.map((item) => item.id)).toContain(target?.id);
  });

  it("404 for another workspace's touchpoint (left untouched); needs an admin key", async () => {
    const items = await deliver(uid('c'), 'smb');
    const target = items[0];
    const foreign = await call(t.app, 'POST', `/v1/touchpoints/${target?.id}/cancel`, other);
    expect(problemOf(foreign).status).toBe(404);
    const reader = await createKey(t.app, key, ['read']);
    expect((await call(t.app, 'POST', `/v1/touchpoints/${target?.id}/cancel`, reader.key)).statusCode).toBe(
      403,
    );
    expect((await get(`/v1/touchpoints/${target?.id}`)).json().status).toBe('scheduled');
  });
});
