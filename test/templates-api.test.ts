import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../src/bootstrap.js';
import { TEMPLATE_LIBRARY } from '../src/modules/templates/seed/index.js';
import { findTemplateVersionById } from '../src/modules/templates/templates.repository.js';
import {
  deleteTemplate,
  getTemplate,
  getTemplateVersion,
  selectTemplateFor,
} from '../src/modules/templates/templates.service.js';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

const email = (key: string, overrides: Record<string, unknown> = {}) => ({
  key,
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  variants: [
    { key: 'a', weight: 1, subject: 'Oi, {{ customer.first_name }}!', html: '<p>{{ customer.name }}</p>' },
    { key: 'b', weight: 3, subject: 'Olá, {{ customer.first_name }}!', text: 'Total: {{ 3500 | money }}' },
  ],
  ...overrides,
});

describe('templates API', () => {
  let t: TestApp;
  const clock = new TestClock('2026-11-23T12:00:00Z');
  let shop: { id: string; key: string };
  let other: { id: string; key: string };
  let reader: string;

  beforeAll(async () => {
    t = await startTestApp({ clock });
    shop = await createWorkspace(t.app, { name: 'Loja da Ana' });
    other = await createWorkspace(t.app, { name: 'Outra loja' });
    reader = (await createKey(t.app, shop.key, ['read'])).key;
  });
  afterAll(async () => t.close());

  it('a new workspace gets the whole seed library at version 1', async () => {
    const response = await call(t.app, 'GET', '/v1/templates?limit=500', reader);
    expect(response.statusCode).toBe(200);
    const keys = response.json().data.map((d: { key: string }) => d.key);
    expect(keys).toEqual(TEMPLATE_LIBRARY.map((d) => d.key).sort());
    const welcome = (await call(t.app, 'GET', '/v1/templates/welcome', reader)).json();
    expect(welcome).toMatchObject({
      key: 'welcome',
      channel: 'email',
      locale: 'pt-BR',
      version: 1,
      family: null,
    });
    const checkin = (await call(t.app, 'GET', '/v1/templates/checkin-call', reader)).json();
    expect(Object.keys(checkin.variants[0].script)).toEqual(
      expect.arrayContaining([
        'opening',
        'diagnosis',
        'value_proposal',
        'call_to_action',
        'objections',
        'escalation',
      ]),
    );
  });

  it('lists with a cursor and filters by channel and family', async () => {
    const first = (await call(t.app, 'GET', '/v1/templates?limit=5', reader)).json();
    expect(first.data).toHaveLength(5);
    const second = (
      await call(t.app, 'GET', `/v1/templates?limit=5&cursor=${first.next_cursor}`, reader)
    ).json();
    expect(second.data[0].key > first.data[4].key).toBe(true);
    const tasks = (await call(t.app, 'GET', '/v1/templates?channel=task&limit=500', reader)).json();
    expect(tasks.data.every((d: { channel: string }) => d.channel === 'task')).toBe(true);
    const family = (await call(t.app, 'GET', '/v1/templates?family=welcome', reader)).json();
    expect(family.data.map((d: { key: string }) => d.key)).toEqual([
      'welcome',
      'welcome-en',
      'welcome-formal',
    ]);
  });

  it('creates a template (201), and a second POST with the same key is 409', async () => {
    const created = await call(t.app, 'POST', '/v1/templates', shop.key, email('promo'));
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ key: 'promo', version: 1, current_version: 1 });
    const again = await call(t.app, 'POST', '/v1/templates', shop.key, email('promo'));
    expect(again.statusCode).toBe(409);
    expect(problemOf(again).code).toBe('template_exists');
  });

  it('writes need the admin scope; reads work with read', async () => {
    expect((await call(t.app, 'POST', '/v1/templates', reader, email('x'))).statusCode).toBe(403);
    expect((await call(t.app, 'DELETE', '/v1/templates/welcome', reader)).statusCode).toBe(403);
    expect((await call(t.app, 'GET', '/v1/templates', undefined)).statusCode).toBe(401);
  });

  it('a template that does not parse is 422 and says where (field, line, column)', async () => {
    const body = email('broken');
    body.variants[1] = {
      key: 'b',
      weight: 1,
      subject: 'ok',
      text: 'linha 1\nlinha 2 {{ customer.name | gritar }}',
    };
    const response = await call(t.app, 'POST', '/v1/templates', shop.key, body);
    expect(response.statusCode).toBe(422);
    expect(problemOf(response).errors).toEqual([
      { path: '/body/variants/1/text', message: 'line 2, col 9: undefined filter: gritar' },
    ]);
    expect((await call(t.app, 'GET', '/v1/templates/broken', reader)).statusCode).toBe(404);
  });

  it('checks channel fields, variant keys, weights and the family with 422', async () => {
    const wrong = await call(t.app, 'POST', '/v1/templates', shop.key, {
      ...email('wrong'),
      variants: [
        { key: 'a', weight: 0, html: '<p>x</p>', script: { opening: 'x' } },
        { key: 'a', weight: 0, subject: 'x', text: 'x' },
      ],
    });
    expect(wrong.statusCode).toBe(400); // script lacks required fields: caught by the schema
    const shape = await call(t.app, 'POST', '/v1/templates', shop.key, {
      ...email('wrong'),
      variants: [
        { key: 'a', weight: 0, html: '<p>x</p>', payload: { a: 1 } },
        { key: 'a', weight: 0, subject: 'x', text: 'x' },
      ],
    });
    expect(shape.statusCode).toBe(422);
    expect(problemOf(shape).errors?.map((e) => e.path)).toEqual([
      '/body/variants/0/payload',
      '/body/variants/0/subject',
      '/body/variants/1/key',
      '/body/variants',
    ]);
    const family = await call(t.app, 'POST', '/v1/templates', shop.key, email('fam', { family: 'nope' }));
    expect(problemOf(family).errors).toEqual([
      { path: '/body/family', message: 'no template "nope" exists' },
    ]);
    const crossChannel = await call(
      t.app,
      'POST',
      '/v1/templates',
      shop.key,
      email('fam', { family: 'checkin-call' }),
    );
    expect(crossChannel.statusCode).toBe(422);
  });

  it('rejects a bad key or an unknown field with 400', async () => {
    const badKey = await call(t.app, 'POST', '/v1/templates', shop.key, email('Not A Slug'));
    expect(badKey.statusCode).toBe(400);
    expect(problemOf(badKey).errors?.[0]?.path).toBe('/body/key');
    const extra = await call(t.app, 'POST', '/v1/templates', shop.key, { ...email('x'), colour: 'blue' });
    expect(problemOf(extra).errors).toEqual([{ path: '/body/colour', message: 'is not a known field' }]);
  });

  it('PUT saves a new version and keeps the history readable', async () => {
    await call(t.app, 'POST', '/v1/templates', shop.key, email('history'));
    clock.advance(60_000);
    const { key: _key, ...v2 } = email('history', { tone: 'formal' });
    const put = await call(t.app, 'PUT', '/v1/templates/history', shop.key, v2);
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ key: 'history', tone: 'formal', version: 2, current_version: 2 });
    const current = (await call(t.app, 'GET', '/v1/templates/history', reader)).json();
    expect(current).toMatchObject({ version: 2, tone: 'formal' });
    const old = (await call(t.app, 'GET', '/v1/templates/history?version=1', reader)).json();
    expect(old).toMatchObject({ version: 1, tone: 'informal', current_version: 2 });
    const versions = (await call(t.app, 'GET', '/v1/templates/history/versions', reader)).json();
    expect(versions.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect((await call(t.app, 'GET', '/v1/templates/history?version=3', reader)).statusCode).toBe(404);
  });

  it('PUT refuses a channel change or a different key in the body (422), and an unknown key (404)', async () => {
    const { key: _k, ...task } = email('history', { channel: 'task' });
    const channel = await call(t.app, 'PUT', '/v1/templates/history', shop.key, {
      ...task,
      variants: [
        {
          key: 'a',
          weight: 1,
          script: {
            opening: 'o',
            diagnosis: ['d'],
            value_proposal: 'v',
            call_to_action: 'c',
            objections: [],
            escalation: 'e',
          },
        },
      ],
    });
    expect(channel.statusCode).toBe(422);
    expect(problemOf(channel).errors?.[0]?.path).toBe('/body/channel');
    const key = await call(t.app, 'PUT', '/v1/templates/history', shop.key, email('other-key'));
    expect(problemOf(key).errors?.[0]?.path).toBe('/body/key');
    expect((await call(t.app, 'PUT', '/v1/templates/nothing', shop.key, email('nothing'))).statusCode).toBe(
      404,
    );
  });

  it('DELETE is 204, the template is then 404, its versions stay for touchpoints, and the key is free', async () => {
    const created = await call(t.app, 'POST', '/v1/templates', shop.key, email('gone'));
    const id = (await getTemplate(t.deps, shop.id, 'gone')).id;
    expect(created.statusCode).toBe(201);
    expect((await call(t.app, 'DELETE', '/v1/templates/gone', shop.key)).statusCode).toBe(204);
    expect((await call(t.app, 'GET', '/v1/templates/gone', reader)).statusCode).toBe(404);
    expect((await call(t.app, 'DELETE', '/v1/templates/gone', shop.key)).statusCode).toBe(404);
    const kept = await getTemplateVersion(t.deps, shop.id, id, 1);
    expect(kept.document.variants[0]?.subject).toBe('Oi, {{ customer.first_name }}!');
    expect(kept.deletedAt).toBeInstanceOf(Date);
    await expect(getTemplateVersion(t.deps, other.id, id, 1)).rejects.toMatchObject({ status: 404 });
    expect(await findTemplateVersionById(t.deps.db, shop.id, id, 2)).toBeUndefined();
    const again = await call(t.app, 'POST', '/v1/templates', shop.key, email('gone'));
    expect(again.json()).toMatchObject({ version: 1 });
  });

  it('DELETE of a template a playbook uses is 409 (through the in-use seam) and deletes nothing', async () => {
    await call(t.app, 'POST', '/v1/templates', shop.key, email('used'));
    const ctx = {
      db: t.deps.db,
      clock,
      publicUrl: 'http://localhost:3000',
      templateUsage: async (_db: unknown, _ws: string, template: { key: string }) =>
        template.key === 'used' ? ['onboarding'] : [],
    };
    await expect(deleteTemplate(ctx, shop.id, 'used')).rejects.toMatchObject({
      status: 409,
      code: 'template_in_use',
      detail: expect.stringContaining('onboarding'),
    });
    expect((await call(t.app, 'GET', '/v1/templates/used', reader)).statusCode).toBe(200);
  });

  it("another workspace's templates are 404", async () => {
    await call(t.app, 'POST', '/v1/templates', shop.key, email('private'));
    expect((await call(t.app, 'GET', '/v1/templates/private', other.key)).statusCode).toBe(404);
    expect((await call(t.app, 'PUT', '/v1/templates/private', other.key, email('private'))).statusCode).toBe(
      404,
    );
    expect((await call(t.app, 'DELETE', '/v1/templates/private', other.key)).statusCode).toBe(404);
    const preview = await call(t.app, 'POST', '/v1/templates/private/preview', other.key, {
      customer: { id: 'c' },
    });
    expect(preview.statusCode).toBe(404);
    expect((await call(t.app, 'GET', '/v1/templates/private', reader)).statusCode).toBe(200);
  });
});

describe('template preview', () => {
  let t: TestApp;
  let shop: { id: string; key: string };

  beforeAll(async () => {
    t = await startTestApp({ clock: new TestClock('2026-11-23T12:00:00Z') });
    shop = await createWorkspace(t.app, { name: 'Loja <Ana>' });
    await call(t.app, 'POST', '/v1/templates', shop.key, email('promo'));
  });
  afterAll(async () => t.close());

  const preview = (key: string, body: Record<string, unknown>) =>
    call(t.app, 'POST', `/v1/templates/${key}/preview`, shop.key, body);

  it('renders the sticky variant for a customer, the same every time', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const first = (await preview('promo', { customer: { id: `c-${i}`, name: 'Ana Souza' } })).json();
      const second = (await preview('promo', { customer: { id: `c-${i}`, name: 'Ana Souza' } })).json();
      expect(second.variant).toBe(first.variant);
      seen.add(first.variant);
    }
    expect([...seen].sort()).toEqual(['a', 'b']);
  });

  it('a forced variant renders that variant; an unknown one is 422', async () => {
    const a = (
      await preview('promo', { customer: { id: 'c', name: '<b>Ana</b> Souza' }, variant: 'a' })
    ).json();
    expect(a).toEqual({
      template: 'promo',
      version: 1,
      variant: 'a',
      channel: 'email',
      subject: 'Oi, <b>Ana</b>!',
      html: '<p>&lt;b&gt;Ana&lt;/b&gt; Souza</p>',
      text: '<b>Ana</b> Souza',
    });
    const b = (await preview('promo', { customer: { id: 'c' }, variant: 'b' })).json();
    expect(b.text).toBe('Total: R$ 3.500,00');
    const unknown = await preview('promo', { customer: { id: 'c' }, variant: 'zz' });
    expect(unknown.statusCode).toBe(422);
    expect(problemOf(unknown).errors?.[0]?.path).toBe('/body/variant');
  });

  it('fills survey and unsubscribe links with marked preview URLs, and uses the event and usage', async () => {
    const nps = (await preview('nps-survey', { customer: { id: 'c', name: 'Ana' } })).json();
    for (let score = 0; score <= 10; score++) {
      expect(nps.html).toContain(`href="http://localhost:3000/s/preview?score=${score}"`);
    }
    expect(nps.html).toContain('href="http://localhost:3000/u/preview"');
    const upgrade = (
      await preview('upgrade-offer', {
        customer: { id: 'c', name: 'Ana', attributes: { plan: 'Básico' } },
        usage: { metric: 'orders', value: 820, limit: 1000 },
        variant: 'a',
      })
    ).json();
    expect(upgrade.html).toContain('<strong>82%</strong> da capacidade do seu plano Básico');
  });

  it('renders task scripts and webhook payloads, and a past version on request', async () => {
    const task = (
      await preview('checkin-call', { customer: { id: 'c', name: 'Ana Souza' }, event: { type: 'delivery' } })
    ).json();
    expect(task).toMatchObject({ channel: 'task', variant: 'a', template: 'checkin-call' });
    expect(task.script.opening).toMatch(/^Oi, Ana, tudo bem\? Aqui é da equipe Loja <Ana>\./);
    expect(task.script.diagnosis.length).toBeGreaterThan(2);
    expect(task.script.objections[0]).toEqual({ objection: expect.any(String), answer: expect.any(String) });
    const hook = (
      await preview('crm-sync', {
        customer: { id: 'c-7', name: 'Ana' },
        event: {
          type: 'purchase',
          occurred_at: '2026-11-20T13:00:00Z',
          properties: { amount: 99.9, currency: 'BRL' },
        },
      })
    ).json();
    expect(hook.payload).toMatchObject({
      source: 'posvenda',
      customer: { external_id: 'c-7', name: 'Ana', email: null },
      event: {
        type: 'purchase',
        amount: 99.9,
        amount_label: 'R$ 99,90',
        occurred_at: '2026-11-20T13:00:00Z',
      },
    });
    const { key: _k, ...v2 } = email('promo', {
      variants: [{ key: 'a', weight: 1, subject: 'Versão 2', text: 'v2' }],
    });
    expect((await call(t.app, 'PUT', '/v1/templates/promo', shop.key, v2)).statusCode).toBe(200);
    expect((await preview('promo', { customer: { id: 'c' } })).json()).toMatchObject({
      version: 2,
      subject: 'Versão 2',
    });
    expect(
      (await preview('promo', { customer: { id: 'c' }, version: 1, variant: 'b' })).json(),
    ).toMatchObject({
      version: 1,
      subject: 'Olá, !',
    });
    expect((await preview('promo', { customer: { id: 'c' }, version: 9 })).statusCode).toBe(404);
  });

  it('GET returns a webhook payload and a script exactly as saved', async () => {
    const crm = (await call(t.app, 'GET', '/v1/templates/crm-sync', shop.key)).json();
    const seed = TEMPLATE_LIBRARY.find((d) => d.key === 'crm-sync')!;
    expect(crm.variants[0].payload).toEqual(seed.variants[0]!.payload);
    const checkin = (await call(t.app, 'GET', '/v1/templates/checkin-call', shop.key)).json();
    expect(checkin.variants[0].script).toEqual(
      TEMPLATE_LIBRARY.find((d) => d.key === 'checkin-call')!.variants[0]!.script,
    );
  });

  it('rejects a preview without a customer id (400)', async () => {
    const response = await preview('promo', { customer: {} });
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).errors?.[0]?.path).toBe('/body/customer/id');
  });
});

describe('seed library installation', () => {
  let t: TestApp;
  const adminKey = 'test-admin-key-0123456789abcdef';

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('the default workspace has the library after bootstrap, and re-running keeps edits and deletions', async () => {
    const before = (await call(t.app, 'GET', '/v1/templates?limit=500', adminKey)).json().data;
    expect(before).toHaveLength(TEMPLATE_LIBRARY.length);
    const current = (await call(t.app, 'GET', '/v1/templates/welcome', adminKey)).json();
    const { key: _k, version: _v, current_version: _c, created_at: _a, updated_at: _u, ...doc } = current;
    const edited = { ...doc, family: undefined, name: 'Boas-vindas da loja' };
    expect((await call(t.app, 'PUT', '/v1/templates/welcome', adminKey, edited)).statusCode).toBe(200);
    expect((await call(t.app, 'DELETE', '/v1/templates/crm-sync', adminKey)).statusCode).toBe(204);
    await bootstrap(t.deps);
    await bootstrap(t.deps);
    const after = (await call(t.app, 'GET', '/v1/templates?limit=500', adminKey)).json().data;
    expect(after).toHaveLength(TEMPLATE_LIBRARY.length - 1);
    expect(after.find((d: { key: string }) => d.key === 'welcome')).toMatchObject({
      name: 'Boas-vindas da loja',
      version: 2,
    });
  });

  it('selectTemplateFor resolves the family by locale and tone and assigns a sticky variant', async () => {
    const { id } = await createWorkspace(t.app, { name: 'Resolve' });
    const pick = async (customer: Record<string, unknown>) =>
      (await selectTemplateFor(t.deps, id, 'welcome', { id: 'c-1', ...customer }, 'pt-BR'))?.template.key;
    expect(await pick({ locale: 'pt-BR' })).toBe('welcome');
    expect(await pick({ locale: 'en-US' })).toBe('welcome-en');
    expect(await pick({ locale: 'pt-BR', segment: 'enterprise' })).toBe('welcome-formal');
    expect(await pick({ locale: 'fr-FR', attributes: { tone: 'formal' } })).toBe('welcome-formal');
    const chosen = await selectTemplateFor(t.deps, id, 'upgrade-offer', { id: 'c-9' }, 'pt-BR');
    const again = await selectTemplateFor(t.deps, id, 'upgrade-offer', { id: 'c-9' }, 'pt-BR');
    expect(chosen?.variant.key).toBe(again?.variant.key);
    expect(chosen?.template.version).toBe(1);
    expect(await selectTemplateFor(t.deps, id, 'no-such', { id: 'c' }, 'pt-BR')).toBeUndefined();
  });
});
