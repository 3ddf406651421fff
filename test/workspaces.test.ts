import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createWorkspace,
  problemOf,
  startTestApp,
  TEST_ADMIN_KEY,
  type TestApp,
} from './helpers/app.js';

describe('workspaces', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('creates a workspace with Brazilian defaults and returns a working admin key once', async () => {
    const response = await call(t.app, 'POST', '/v1/workspaces', TEST_ADMIN_KEY, { name: 'Loja da Ana' });
    expect(response.statusCode).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({
      name: 'Loja da Ana',
      timezone: 'America/Sao_Paulo',
      country: 'BR',
      currency: 'BRL',
      locale: 'pt-BR',
    });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    const settings = await call(t.app, 'GET', '/v1/settings', created.api_key);
    expect(settings.statusCode).toBe(200);
    const fetched = (await call(t.app, 'GET', `/v1/workspaces/${created.id}`, TEST_ADMIN_KEY)).json();
    expect(fetched.api_key).toBeUndefined();
  });

  it('takes time zone, country, currency and locale', async () => {
    const { key } = await createWorkspace(t.app, {
      timezone: 'Europe/Lisbon',
      country: 'PT',
      currency: 'EUR',
      locale: 'pt-PT',
    });
    expect((await call(t.app, 'GET', '/v1/settings', key)).json()).toMatchObject({
      timezone: 'Europe/Lisbon',
      country: 'PT',
      currency: 'EUR',
      locale: 'pt-PT',
    });
  });

  it('rejects unknown time zones, countries and currencies with 422 naming each field, creating nothing', async () => {
    const before = (await call(t.app, 'GET', '/v1/workspaces?limit=500', TEST_ADMIN_KEY)).json().data.length;
    const response = await call(t.app, 'POST', '/v1/workspaces', TEST_ADMIN_KEY, {
      name: 'Bad',
      timezone: 'Mars/Olympus',
      country: 'XX',
      currency: 'ZZZ',
    });
    expect(response.statusCode).toBe(422);
    expect(problemOf(response).errors?.map((e) => e.path)).toEqual([
      '/body/timezone',
      '/body/country',
      '/body/currency',
    ]);
    expect((await call(t.app, 'GET', '/v1/workspaces?limit=500', TEST_ADMIN_KEY)).json().data.length).toBe(
      before,
    );
  });

  it('rejects a missing or empty name with 400', async () => {
    expect(problemOf(await call(t.app, 'POST', '/v1/workspaces', TEST_ADMIN_KEY, {})).errors).toEqual([
      { path: '/body/name', message: 'is required' },
    ]);
    expect((await call(t.app, 'POST', '/v1/workspaces', TEST_ADMIN_KEY, { name: '' })).statusCode).toBe(400);
  });

  it('lists workspaces newest first and 404s an unknown id', async () => {
    const a = await createWorkspace(t.app, { name: 'First' });
    const b = await createWorkspace(t.app, { name: 'Second' });
    const ids = (await call(t.app, 'GET', '/v1/workspaces?limit=2', TEST_ADMIN_KEY))
      .json()
      .data.map((w: { id: string }) => w.id);
    expect(ids).toEqual([b.id, a.id]);
    const missing = await call(
      t.app,
      'GET',
      '/v1/workspaces/01a2b3c4-0000-7000-8000-000000000000',
      TEST_ADMIN_KEY,
    );
    expect(missing.statusCode).toBe(404);
  });
});

describe('settings', () => {
  let t: TestApp;
  let shop: { id: string; key: string };
  beforeAll(async () => {
    t = await startTestApp();
    shop = await createWorkspace(t.app);
  });
  afterAll(async () => t.close());

  it("returns the defaults, with the seed's KPI targets", async () => {
    const settings = (await call(t.app, 'GET', '/v1/settings', shop.key)).json();
    expect(settings).toMatchObject({
      late_grace: 'PT24H',
      quiet_hours: { start: '21:00', end: '08:00' },
      frequency_caps: { email: { per_day: 1, per_week: 3 }, task: { per_day: null, per_week: null } },
    });
    expect(settings.kpi_targets).toMatchObject({
      nps: { op: 'gte', value: 70 },
      churn: { op: 'lte', value: 5 },
      'response-time': { op: 'lte', value: 24 },
      'upsell-conversion': { op: 'gte', value: 3 },
      'revenue-retention': { op: 'gte', value: 85 },
      ltv: { op: 'gte', value: 30, basis: 'change_percent' },
    });
  });

  it("sets, keeps and removes the shop's links; refuses bad names and URLs", async () => {
    const set = await call(t.app, 'PATCH', '/v1/settings', shop.key, {
      links: { plans: 'https://loja.example.com/planos', help: 'https://ajuda.example.com' },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().links).toEqual({
      plans: 'https://loja.example.com/planos',
      help: 'https://ajuda.example.com',
    });
    const removed = await call(t.app, 'PATCH', '/v1/settings', shop.key, { links: { help: null } });
    expect(removed.json().links).toEqual({ plans: 'https://loja.example.com/planos' });
    for (const links of [{ plans: 'javascript:alert(1)' }, { 'Bad Name': 'https://x.example' }]) {
      const bad = await call(t.app, 'PATCH', '/v1/settings', shop.key, { links });
      expect(bad.statusCode, JSON.stringify(links)).toBe(400);
      expect(problemOf(bad).errors?.[0]?.path).toMatch(/^\/body\/links/);
    }
    expect((await call(t.app, 'GET', '/v1/settings', shop.key)).json().links).toEqual({
      plans: 'https://loja.example.com/planos',
    });
    await call(t.app, 'PATCH', '/v1/settings', shop.key, { links: { plans: null } });
  });

  it('changes only the fields given and keeps the rest', async () => {
    const response = await call(t.app, 'PATCH', '/v1/settings', shop.key, {
      late_grace: 'PT12H',
      frequency_caps: { task: { per_day: 2, per_week: null } },
      kpi_targets: { nps: { op: 'gte', value: 60, warn: 40, basis: 'value' } },
    });
    expect(response.statusCode).toBe(200);
    const settings = response.json();
    expect(settings.late_grace).toBe('PT12H');
    expect(settings.frequency_caps.task).toEqual({ per_day: 2, per_week: null });
    expect(settings.frequency_caps.email).toEqual({ per_day: 1, per_week: 3 });
    expect(settings.kpi_targets.nps.value).toBe(60);
    expect(settings.kpi_targets.churn.value).toBe(5);
    expect(settings.timezone).toBe('America/Sao_Paulo');
    expect((await call(t.app, 'GET', '/v1/settings', shop.key)).json()).toEqual(settings);
  });

  it('turns quiet hours off with null and resets a KPI target to its default with null', async () => {
    await call(t.app, 'PATCH', '/v1/settings', shop.key, {
      kpi_targets: { churn: { op: 'lte', value: 3, warn: 6, basis: 'value' } },
    });
    const settings = (
      await call(t.app, 'PATCH', '/v1/settings', shop.key, {
        quiet_hours: null,
        kpi_targets: { churn: null },
      })
    ).json();
    expect(settings.quiet_hours).toBeNull();
    expect(settings.kpi_targets.churn).toEqual({ op: 'lte', value: 5, warn: 10, basis: 'value' });
  });

  it('rejects bad values with precise paths and changes nothing', async () => {
    const before = (await call(t.app, 'GET', '/v1/settings', shop.key)).json();
    const semantic = await call(t.app, 'PATCH', '/v1/settings', shop.key, {
      timezone: 'America/Nowhere',
      late_grace: '24 hours',
      kpi_targets: { nps: { op: 'gte', value: 70, warn: 80, basis: 'value' } },
    });
    expect(semantic.statusCode).toBe(422);
    expect(problemOf(semantic).errors?.map((e) => e.path)).toEqual([
      '/body/timezone',
      '/body/late_grace',
      '/body/kpi_targets/nps/warn',
    ]);
    const schema = await call(t.app, 'PATCH', '/v1/settings', shop.key, {
      quiet_hours: { start: '25:00', end: '08:00' },
      kpi_targets: { happiness: { op: 'gte', value: 1, warn: 0, basis: 'value' } },
    });
    expect(schema.statusCode).toBe(400);
    expect(problemOf(schema).errors?.map((e) => e.path)).toEqual(
      expect.arrayContaining(['/body/quiet_hours/start', '/body/kpi_targets/happiness']),
    );
    expect((await call(t.app, 'GET', '/v1/settings', shop.key)).json()).toEqual(before);
  });

  it("a workspace's settings are its own", async () => {
    const other = await createWorkspace(t.app);
    await call(t.app, 'PATCH', '/v1/settings', other.key, { currency: 'USD' });
    expect((await call(t.app, 'GET', '/v1/settings', shop.key)).json().currency).toBe('BRL');
    expect((await call(t.app, 'GET', '/v1/settings', other.key)).json().currency).toBe('USD');
  });
});
