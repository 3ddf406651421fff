import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATE_LIBRARY } from '../src/modules/templates/seed/index.js';
import { findTemplateVersionById } from '../src/modules/templates/templates.repository.js';
import {
  deleteTemplate,
  getTemplate,
  getTemplateVersion,
} from '../src/modules/templates/templates.service.js';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { emailTemplate as email } from './helpers/templates.js';

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
    const page1 = (await call(t.app, 'GET', '/v1/templates/history/versions?limit=1', reader)).json();
    expect(page1.data.map((v: { version: number }) => v.version)).toEqual([2]);
    const page2 = (
      await call(t.app, 'GET', `/v1/templates/history/versions?limit=1&cursor=${page1.next_cursor}`, reader)
    ).json();
    expect(page2).toMatchObject({ data: [{ version: 1, tone: 'informal' }], next_cursor: null });
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
