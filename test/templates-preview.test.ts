import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../src/bootstrap.js';
import { selectTemplateFor } from '../src/modules/templates/preview.service.js';
import { TEMPLATE_LIBRARY } from '../src/modules/templates/seed/index.js';
import { call, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { emailTemplate as email } from './helpers/templates.js';

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
