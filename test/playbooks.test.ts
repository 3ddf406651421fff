import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

const welcomeOnly = {
  key: 'thanks',
  name: 'Obrigado',
  trigger: { event: 'purchase' },
  steps: [{ key: 'thanks', after: 'P1D', channel: 'email', template: 'welcome', at: '10:00' }],
};

describe('playbooks API', () => {
  let t: TestApp;
  let shop: { id: string; key: string };
  const clock = new TestClock('2026-11-20T12:00:00Z');
  beforeAll(async () => {
    t = await startTestApp({ clock });
    shop = await createWorkspace(t.app);
  });
  afterAll(async () => t.close());

  const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
    call(t.app, method, url, shop.key, body);

  it("installs the seed article's playbooks in a new workspace, all valid against the seed templates", async () => {
    const list = (await api('GET', '/v1/playbooks')).json();
    const keys = list.data.map((p: { key: string; enabled: boolean }) => `${p.key}:${p.enabled}`);
    expect(keys).toEqual([
      'detractor-followup:true',
      'onboarding:true',
      'purchase-calendar:false',
      'reengagement:true',
      'support-satisfaction:true',
      'upgrade-at-80:true',
    ]);
    // Saving each one again passes every check (templates exist, channels match, durations parse).
    for (const playbook of list.data) {
      const { key: _k, version: _v, created_at: _c, updated_at: _u, ...document } = playbook;
      const saved = await api('PUT', `/v1/playbooks/${playbook.key}`, document);
      expect(saved.statusCode, saved.body).toBe(200);
      expect(saved.json().version).toBe(2);
    }
  });

  it('creates a playbook (201), refuses the same key again (409), reads it back', async () => {
    const created = await api('POST', '/v1/playbooks', welcomeOnly);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      key: 'thanks',
      version: 1,
      enabled: true,
      reentry: 'never',
      exit_on: [],
      trigger: { event: 'purchase' },
    });
    const again = await api('POST', '/v1/playbooks', welcomeOnly);
    expect(again.statusCode).toBe(409);
    expect(problemOf(again).code).toBe('playbook_exists');
    expect((await api('GET', '/v1/playbooks/thanks')).json().steps).toEqual(welcomeOnly.steps);
  });

  it('rejects references to missing templates, wrong channels and bad durations with 422 naming each place', async () => {
    const response = await api('POST', '/v1/playbooks', {
      key: 'broken',
      name: 'Broken',
      trigger: { event: 'delivery', inactivity: { days: 3 } },
      reentry: { after: 'ninety days' },
      exit_on: [{ event: 'refund' }],
      steps: [
        { key: 'a', after: 'P3D', channel: 'email', template: 'no-such-template' },
        { key: 'a', after: 'three days', channel: 'task', template: 'welcome' },
        {
          key: 'c',
          after: 'P1D',
          channel: 'email',
          template: 'welcome',
          when: { no_such_op: [1] },
          task: { kind: 'call' },
        },
      ],
    });
    expect(response.statusCode).toBe(422);
    const paths = problemOf(response).errors?.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/body/trigger',
        '/body/reentry/after',
        '/body/exit_on/0/event',
        '/body/steps/0/template',
        '/body/steps/1/key',
        '/body/steps/1/after',
        '/body/steps/1/template',
        '/body/steps/2/when',
        '/body/steps/2/task',
      ]),
    );
    const byPath = Object.fromEntries(problemOf(response).errors!.map((e) => [e.path, e.message]));
    expect(byPath['/body/steps/0/template']).toBe('no template "no-such-template" exists');
    expect(byPath['/body/steps/1/template']).toBe(
      '"welcome" is a email template but the step\'s channel is task',
    );
    expect((await api('GET', '/v1/playbooks/broken')).statusCode).toBe(404);
  });

  it('rejects schema errors with 400: unknown fields, bad keys, bad local times, no steps', async () => {
    const response = await api('POST', '/v1/playbooks', {
      key: 'Bad Key',
      name: 'x',
      colour: 'blue',
      trigger: { event: 'purchase' },
      steps: [{ key: 's', after: 'P1D', channel: 'sms', template: 'welcome', at: '25:00' }],
    });
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).errors?.map((e) => e.path)).toEqual(
      expect.arrayContaining(['/body/key', '/body/colour', '/body/steps/0/channel', '/body/steps/0/at']),
    );
    const empty = await api('POST', '/v1/playbooks', { ...welcomeOnly, key: 'empty', steps: [] });
    expect(problemOf(empty).errors?.[0]?.path).toBe('/body/steps');
  });

  it('PUT makes a new version; old versions stay readable; a key in the body must match the path', async () => {
    await api('POST', '/v1/playbooks', { ...welcomeOnly, key: 'versioned' });
    const { key: _key, ...body } = welcomeOnly;
    const v2 = await api('PUT', '/v1/playbooks/versioned', {
      ...body,
      name: 'Obrigado v2',
      steps: [{ key: 'thanks', after: 'P2D', channel: 'email', template: 'welcome' }],
    });
    expect(v2.json()).toMatchObject({ version: 2, name: 'Obrigado v2' });
    expect((await api('GET', '/v1/playbooks/versioned')).json().version).toBe(2);
    expect((await api('GET', '/v1/playbooks/versioned?version=1')).json()).toMatchObject({
      version: 1,
      name: 'Obrigado',
    });
    expect((await api('GET', '/v1/playbooks/versioned?version=9')).statusCode).toBe(404);
    const mismatch = await api('PUT', '/v1/playbooks/versioned', { ...welcomeOnly, key: 'other' });
    expect(problemOf(mismatch).errors?.[0]?.path).toBe('/body/key');
    expect((await api('PUT', '/v1/playbooks/nope', body)).statusCode).toBe(404);
  });

  it('a template a playbook uses cannot be deleted (409)', async () => {
    const response = await api('DELETE', '/v1/templates/welcome');
    expect(response.statusCode).toBe(409);
    expect(problemOf(response).detail).toContain('onboarding');
  });

  it('preview plans for a hypothetical customer at any date, and stores nothing', async () => {
    const count = async () =>
      Number(
        (
          await t.deps.db
            .selectFrom('touchpoints')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('workspaceId', '=', shop.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const response = await api('POST', '/v1/playbooks/onboarding/preview', {
      customer: { segment: 'enterprise' },
      events: [
        { type: 'delivery', occurred_at: '2030-03-01T12:00:00Z' },
        { type: 'cancellation', occurred_at: '2030-03-20T12:00:00Z' },
      ],
    });
    expect(response.statusCode).toBe(200);
    const preview = response.json();
    expect(
      preview.touchpoints.map((tp: { step: string; status: string }) => `${tp.step}:${tp.status}`),
    ).toEqual([
      'welcome:scheduled',
      'checkin-call:scheduled',
      'usage-tips:cancelled',
      'nps:cancelled',
      'upgrade-offer:cancelled',
    ]);
    // 1 March 2030 is a Friday (9:00 local); D+3 is Monday 4 March — Carnival Monday, and
    // Tuesday is Carnival too — so the welcome goes on Wednesday 6 March at 10:00 local.
    expect(preview.touchpoints[0].due_at).toBe('2030-03-06T13:00:00.000Z');
    expect(preview.exited).toEqual([
      { playbook: 'onboarding', reason: 'event:cancellation', at: '2030-03-20T12:00:00.000Z' },
    ]);
    expect(await count()).toBe(before);
  });

  it('keys of another workspace are 404; writes need the admin scope', async () => {
    const other = await createWorkspace(t.app);
    await call(t.app, 'POST', '/v1/playbooks', other.key, { ...welcomeOnly, key: 'theirs' });
    expect((await api('GET', '/v1/playbooks/theirs')).statusCode).toBe(404);
    const reader = await createKey(t.app, shop.key, ['read']);
    expect((await call(t.app, 'GET', '/v1/playbooks', reader.key)).statusCode).toBe(200);
    expect(
      (await call(t.app, 'POST', '/v1/playbooks', reader.key, { ...welcomeOnly, key: 'x' })).statusCode,
    ).toBe(403);
  });

  it('pages through playbooks by key with a cursor', async () => {
    const first = (await api('GET', '/v1/playbooks?limit=3')).json();
    const second = (await api('GET', `/v1/playbooks?limit=3&cursor=${first.next_cursor}`)).json();
    const keys = [...first.data, ...second.data].map((p: { key: string }) => p.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(keys);
  });
});
